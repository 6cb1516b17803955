"""The review's sentences in English and Simplified Chinese: what a drop-off's
``note`` says had just happened, and the ``recommendations`` (``stats.causes``,
``stats.advice``). Merged into ``live.core.i18n``'s EN and ZH; each template's
``{fields}`` are the same in both languages (a test checks)."""

from __future__ import annotations

EN: dict[str, str] = {
    "review_percent": "{n} %",
    "review_seconds": "{n} s",
    "review_minutes": "{n} min",
    "review_list_sep": "; ",
    # what had just happened (a drop-off's note)
    "review_cause_segment_started": "{title} had just started",
    "review_cause_price_shown": "the price of {product} ({price}) had just been shown",
    "review_cause_sale_opened": "a flash sale of {product} at {price} had just opened",
    "review_cause_sale_ended": "the flash sale of {product} had just ended",
    "review_cause_draw_drawn": "the draw for {prize} had just been drawn",
    "review_cause_break": "a break was on air",
    "review_cause_over_plan": "{title} was {duration} over plan",
    "review_cause_none": "nothing on the rundown had just happened",
    # recommendations
    "review_live": "The show is still live: these are the numbers so far.",
    "review_no_viewers": "No viewers were counted, so there is nothing to say about the audience yet.",
    "review_orders_no_viewers": "{orders} orders came in but no viewers were counted: connect the platform's viewer "
                                "events to measure conversion.",
    "review_no_drop_offs": "No minute lost viewers beyond the show's usual rate (about {rate} of those watching "
                           "left each minute).",
    "review_drop_off": "{segment} lost {share} of its viewers in its first {duration}; in minute {minute}, "
                       "{lost} left, {times}× the usual, when {note}.",
    "review_drop_off_over": "{segment} lost {share} of its viewers in its first {duration}; it ran {over} over plan, "
                            "and {share_after} of those still watching at its planned end left before it did.",
    "review_drop_off_free": "Minute {minute} lost {lost} viewers, {times}× the usual, when {note}.",
    "review_peak": "Orders peaked in minute {minute}, during {segment}{sale}: {orders} orders from {viewers} viewers "
                   "({conversion}), {times}× the show's usual rate.",
    "review_peak_sale": " (the flash sale of {product})",
    "review_peak_draw": " (while a draw was open)",
    "review_peak_nothing_on": "no segment",
    "review_flat_orders": "Orders came at a steady rate ({orders} in all): no minute stood out.",
    "review_over_plan": "The show ran {duration} past its plan; {segment} over-ran the most ({over}).",
    "review_best_product": "{product} sold the most: {gmv} from {orders} orders ({share} of the show's GMV).",
    "review_clicks_not_orders": "{product} had {clicks} clicks but only {orders} orders, fewer per click than the "
                                "show's other products: check its price and its page.",
    "review_returns": "{share} of the units sold were returned, most of them {product} ({units} units).",
    "review_quiet_segment": "Interaction fell to {rate} a viewer a minute during {segment}, under half the show's "
                            "usual {usual}: add a question, a draw or a like goal there.",
}

ZH: dict[str, str] = {
    "review_percent": "{n}%",
    "review_seconds": "{n}秒",
    "review_minutes": "{n}分钟",
    "review_list_sep": "；",
    "review_cause_segment_started": "{title}刚开始",
    "review_cause_price_shown": "{product}刚亮价（{price}）",
    "review_cause_sale_opened": "{product}秒杀刚开始，秒杀价{price}",
    "review_cause_sale_ended": "{product}秒杀刚结束",
    "review_cause_draw_drawn": "{prize}抽奖刚开奖",
    "review_cause_break": "正在休息",
    "review_cause_over_plan": "{title}已超出计划{duration}",
    "review_cause_none": "流程上此前没有特别的事件",
    "review_live": "直播仍在进行：以下是截至目前的数据。",
    "review_no_viewers": "没有统计到观众，暂时无法分析观众的行为。",
    "review_orders_no_viewers": "收到{orders}笔订单，但没有统计到观众：请接入平台的观众事件，才能计算转化率。",
    "review_no_drop_offs": "没有哪一分钟的流失超出本场的正常水平（每分钟约{rate}的在线观众离开）。",
    "review_drop_off": "{segment}开始后{duration}内流失了{share}的观众；第{minute}分钟离开{lost}人，"
                       "是平时的{times}倍，当时{note}。",
    "review_drop_off_over": "{segment}开始后{duration}内流失了{share}的观众；它超出计划{over}，"
                            "计划结束时仍在看的观众中有{share_after}在它结束前离开。",
    "review_drop_off_free": "第{minute}分钟离开{lost}人，是平时的{times}倍，当时{note}。",
    "review_peak": "订单高峰在第{minute}分钟，{segment}期间{sale}：{viewers}位观众下单{orders}笔（{conversion}），"
                   "是本场平均的{times}倍。",
    "review_peak_sale": "（{product}秒杀）",
    "review_peak_draw": "（抽奖进行中）",
    "review_peak_nothing_on": "无环节",
    "review_flat_orders": "订单来得很平稳（共{orders}笔）：没有哪一分钟特别突出。",
    "review_over_plan": "整场超出计划{duration}；超时最多的是{segment}（{over}）。",
    "review_best_product": "{product}卖得最好：{orders}笔订单，成交{gmv}（占本场成交额的{share}）。",
    "review_clicks_not_orders": "{product}有{clicks}次点击，但只有{orders}笔订单，每次点击的成交低于本场其他商品："
                                "检查它的价格和商品页。",
    "review_returns": "售出的商品中有{share}被退回，其中最多的是{product}（{units}件）。",
    "review_quiet_segment": "{segment}期间互动降到每位观众每分钟{rate}次，不到本场平时（{usual}次）的一半："
                            "可以在这里加一个提问、抽奖或点赞目标。",
}
