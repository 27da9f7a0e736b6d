"""What a change is called in Norwegian: kind labels, the one-sentence summary of what changed
(page, Atom feed, `samsok changes`), and how times and `since` dates are shown."""

from __future__ import annotations

from datetime import date, datetime

from samsok.search.store import LOCAL_TZ, ChangeEvent, ChangeItem

__all__ = ["KIND_LABELS", "change_summary", "local_time", "since_label"]

KIND_LABELS = {"new": "Ny", "changed": "Endret", "removed": "Fjernet"}
_REMOVED_WHY = {
    "http_404": "finnes ikke lenger på nettstedet (404)",
    "http_410": "er fjernet fra nettstedet (410)",
    "vanished": "er ikke lenger lenket fra nettstedet",
    "renamed": "er erstattet av en ny kopi",
}


def change_summary(item: ChangeItem | ChangeEvent) -> str:
    """What changed, in one Norwegian sentence (page and feed)."""
    if isinstance(item, ChangeEvent):
        d = item.detail
        kind = item.kind
        title_changed, old_title = bool(d.get("title_changed")), d.get("old_title")
        text_changed = bool(d.get("text_changed"))
        added, dropped = list(d.get("pages_added", [])), list(d.get("pages_removed", []))  # type: ignore[call-overload]
        edited = list(d.get("pages_changed", []))  # type: ignore[call-overload]
        reason = d.get("reason")
        duplicate = bool(d.get("duplicate_of"))
    else:
        kind = item.kind
        title_changed, old_title = item.title_changed, item.old_title
        text_changed = item.text_changed
        added, dropped, edited = item.pages_added, item.pages_removed, item.pages_changed
        reason = item.removed_reason
        duplicate = bool(item.duplicate_of)
    if kind == "new":
        also = " (samme sak er også publisert et annet sted)" if duplicate else ""
        return f"Nytt dokument{also}."
    if kind == "removed":
        why = _REMOVED_WHY.get(str(reason or ""), "er fjernet fra søket")
        return f"Dokumentet {why}."
    parts = []
    if title_changed:
        parts.append(f"ny tittel (var «{old_title}»)")
    if added:
        parts.append(_pages("lagt til", added))
    if dropped:
        parts.append(_pages("fjernet", dropped))
    if edited:
        parts.append(_pages("endret", edited))
    if text_changed and not (added or dropped or edited):
        parts.append("teksten er endret")
    if not parts:
        return "Endret."
    sentence = "; ".join(parts)
    return f"{sentence[0].upper()}{sentence[1:]}."


def _pages(verb: str, numbers: list[int]) -> str:
    label = "side" if len(numbers) == 1 else "sider"
    return f"{label} {', '.join(str(n) for n in numbers)} {verb}"


def local_time(moment: datetime) -> str:
    """A logged instant as staff read it: Norwegian wall-clock time."""
    return f"{moment.astimezone(LOCAL_TZ):%d.%m.%Y kl. %H:%M}"


def since_label(since: date | datetime | None) -> str:
    if since is None:
        return ""
    if isinstance(since, datetime):
        return f"{since.astimezone(LOCAL_TZ):%d.%m.%Y %H:%M}"
    return f"{since:%d.%m.%Y}"
