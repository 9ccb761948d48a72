"""The Slack channel: DMs, app mentions answered in threads, buttons, live pushes, the agent
slash command and installation. Translates only: every turn goes through Assistant.

``bot.channels.slack.channel.build_slack_channel(runtime)`` builds it only when Slack is
configured (docs/slack.md); otherwise ``/slack/*`` answers 404 and nothing else changes.
Kept import-free so that the models module loads without the rest of the app.
"""
