"""Render article Markdown for a channel: plain text, safe HTML or Slack mrkdwn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def render(markdown: str, channel: str) -> str:
    """Render ``markdown`` for ``channel`` ("text", "html" or "slack")."""
    md = _markdown_it()
    if channel == "html":
        return md.render(markdown)
    style = _STYLES.get(channel)
    if style is None:
        raise ValueError(f"unknown channel {channel!r}; expected one of {sorted([*_STYLES, 'html'])}")
    return _Writer(style).blocks(md.parse(markdown))


def is_safe_link(url: str) -> bool:
    """Only web, mail and phone links survive; javascript:, data:, relative paths do not."""
    return url.strip().lower().startswith(SAFE_SCHEMES)


def _markdown_it() -> MarkdownIt:
    # Raw HTML is escaped ("html": False) and unsafe links never become links at all.
    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _html_link_open)
    return md


def _html_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


@dataclass(frozen=True)
class _Style:
    bold: str
    italic: str
    bullet: str
    escape: Callable[[str], str]
    code: Callable[[str], str]
    link: Callable[[str, str], str]
    heading: Callable[[str], str]
    code_block: Callable[[str], str]
    rule: str


@dataclass
class _OpenList:
    ordered: bool
    number: int


def _plain_link(label: str, url: str) -> str:
    bare = url.removeprefix("mailto:").removeprefix("tel:")
    return label if label in (url, bare) else f"{label} ({bare})"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(label: str, url: str) -> str:
    target = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{target}>" if label == _slack_escape(url) else f"<{target}|{label}>"


_STYLES = {
    "text": _Style(
        bold="",
        italic="",
        bullet="-",
        escape=str,
        code=str,
        link=_plain_link,
        heading=str,
        code_block=str,
        rule="---",
    ),
    "slack": _Style(
        bold="*",
        italic="_",
        bullet="•",
        escape=_slack_escape,
        code=lambda text: f"`{text}`",
        link=_slack_link,
        heading=lambda text: f"*{text}*",
        code_block=lambda text: f"```\n{text}\n```",
        rule="———",
    ),
}


class _Writer:
    """Walks markdown-it's token stream and writes lines in one channel's style."""

    def __init__(self, style: _Style) -> None:
        self._style = style
        self._lines: list[str] = []
        self._lists: list[_OpenList] = []
        self._marker: str | None = None
        self._quote = 0

    def blocks(self, tokens: Sequence[Token]) -> str:
        heading = False
        for token in tokens:
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                start = int(token.attrGet("start") or 1)
                self._lists.append(_OpenList(ordered=kind == "ordered_list_open", number=start))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self._lists.pop()
                self._gap()
            elif kind == "list_item_open":
                current = self._lists[-1]
                self._marker = f"{current.number}." if current.ordered else self._style.bullet
                current.number += 1
            elif kind == "heading_open":
                heading = True
            elif kind == "inline":
                text = self._inline(token.children or [])
                self._emit(self._style.heading(text) if heading else text)
            elif kind in ("heading_close", "paragraph_close"):
                heading = False
                self._gap()
            elif kind in ("fence", "code_block"):
                self._emit(self._style.code_block(self._style.escape(token.content.rstrip("\n"))))
                self._gap()
            elif kind == "hr":
                self._emit(self._style.rule)
                self._gap()
            elif kind == "blockquote_open":
                self._quote += 1
            elif kind == "blockquote_close":
                self._quote -= 1
        return "\n".join(self._lines).strip("\n")

    def _emit(self, text: str) -> None:
        depth = max(len(self._lists) - 1, 0)
        indent = "   " * depth
        quote = "> " * self._quote
        for number, line in enumerate(text.split("\n")):
            if number == 0 and self._marker is not None:
                line = f"{indent}{self._marker} {line}"
                self._marker = None
            elif self._lists:
                line = f"{indent}   {line}"
            self._lines.append(f"{quote}{line}".rstrip())

    def _gap(self) -> None:
        if self._lines and self._lines[-1] != "" and not self._lists:
            self._lines.append("")

    def _inline(self, children: Sequence[Token]) -> str:
        style = self._style
        parts: list[str] = []
        links: list[tuple[str, int]] = []  # (href, index into parts where the label starts)
        for child in children:
            kind = child.type
            if kind == "text":
                parts.append(style.escape(child.content))
            elif kind == "code_inline":
                parts.append(style.code(style.escape(child.content)))
            elif kind == "softbreak":
                parts.append(" ")
            elif kind == "hardbreak":
                parts.append("\n")
            elif kind in ("strong_open", "strong_close"):
                parts.append(style.bold)
            elif kind in ("em_open", "em_close"):
                parts.append(style.italic)
            elif kind == "link_open":
                links.append((str(child.attrGet("href") or ""), len(parts)))
            elif kind == "link_close" and links:
                href, start = links.pop()
                label = "".join(parts[start:])
                del parts[start:]
                parts.append(style.link(label, href))
            elif kind == "image":
                parts.append(style.escape(child.content))
        return "".join(parts)
