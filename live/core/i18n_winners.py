"""The winners list's words (``GET …/draws/{id}/winners.csv``), in English and
Simplified Chinese: its column headers and how a row says which round drew it."""

from __future__ import annotations

EN: dict[str, str] = {
    "rank": "Rank",
    "nickname": "Nickname",
    "viewer_id": "Viewer ID",
    "pseudonym": "Pseudonym",
    "prize": "Prize",
    "drawn_at": "Drawn at",
    "round": "Round",
    "round_draw": "draw",
    "round_reroll": "reroll {n}",
}

ZH: dict[str, str] = {
    "rank": "名次",
    "nickname": "昵称",
    "viewer_id": "观众 ID",
    "pseudonym": "化名",
    "prize": "奖品",
    "drawn_at": "开奖时间",
    "round": "轮次",
    "round_draw": "开奖",
    "round_reroll": "补抽 {n}",
}

LANGUAGES = {"en": EN, "zh-CN": ZH}
