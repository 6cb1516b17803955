"""The demo show planned on an empty database, so a new user sees something at once."""

from __future__ import annotations

from typing import Any

DEMO: dict[str, Any] = {
    "title": "秋冬护肤专场 · Autumn skincare live",
    "currency": "CNY",
    "language": "zh-CN",
    "like_goal": 500,
    "products": [
        {"sku": "SERUM-30", "title": "修护精华 30ml", "list_price": "299.00", "live_price": "199.00", "stock": 300,
         "url": "https://shop.example.com/p/serum-30"},
        {"sku": "CREAM-50", "title": "保湿面霜 50g", "list_price": "239.00", "live_price": "159.00", "stock": 200,
         "url": "https://shop.example.com/p/cream-50"},
        {"sku": "MASK-10", "title": "补水面膜 10片装", "list_price": "129.00", "live_price": "79.00", "stock": 500,
         "url": "https://shop.example.com/p/mask-10"},
        {"sku": "GIFT-SET", "title": "节日礼盒 (精华+面霜)", "list_price": "538.00", "live_price": "328.00",
         "stock": 80, "url": "https://shop.example.com/p/gift-set"},
    ],
    "segments": [
        {"kind": "warmup", "title": "预热 · Warm-up", "planned_seconds": 900,
         "talking_points": ["欢迎新朋友, 点赞到 500 抽福袋", "预告今天的三款主推"]},
        {"kind": "product", "title": "修护精华 Serum", "sku": "SERUM-30", "planned_seconds": 1080,
         "talking_points": ["成分: 烟酰胺 5%", "敏感肌可用, 先做耳后测试", "直播间价 ¥199, 限时 30 分钟"]},
        {"kind": "interaction", "title": "互动 · Q&A", "planned_seconds": 300,
         "talking_points": ["回答评论区问题", "提醒关注主播"]},
        {"kind": "product", "title": "保湿面霜 Cream", "sku": "CREAM-50", "planned_seconds": 900,
         "talking_points": ["质地演示", "搭配精华使用更好"]},
        {"kind": "product", "title": "补水面膜 Masks", "sku": "MASK-10", "planned_seconds": 900,
         "talking_points": ["每片 ¥7.9", "两件再送 5 片"]},
        {"kind": "product", "title": "礼盒 Gift set", "sku": "GIFT-SET", "planned_seconds": 1200,
         "talking_points": ["节日送礼", "库存 80 份"]},
        {"kind": "closing", "title": "收尾 · Wrap-up", "planned_seconds": 300,
         "talking_points": ["回顾今日好物", "预告下一场"]},
    ],
}
