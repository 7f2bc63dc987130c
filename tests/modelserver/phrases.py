"""The server's copywriting vocabulary, English and Chinese: per goal a few (short title, sentence) hooks and
button labels. Written as a careful copywriter would: no urgency, no superlatives, no exclamation marks."""

from __future__ import annotations

__all__ = ["CTAS", "HOOKS", "THANKS"]

HOOKS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "en": {
        "win_back": [
            ("It's been a while", "It's been a while since your last trip with us."),
            ("We'd love to see you again", "We'd love to see you back on the trail again."),
            ("Come back to the trail", "Come back and see what's ready for your next trip."),
        ],
        "cross_sell": [
            ("Pairs well with your gear", "Here is something that pairs well with your gear."),
            ("Complete your kit", "A good match to complete your kit."),
            ("You might also like this", "You might also like this for your next trip."),
        ],
        "replenish": [
            ("Time to restock?", "Time to restock before your next trip?"),
            ("Running low?", "Running low? Stock up before you head out."),
            ("Ready for a top up", "Time for a top up of the essentials."),
        ],
        "loyalty": [
            ("Thank you for being a member", "Thank you for being part of our community."),
            ("A thank-you for you", "A thank-you reward for our members."),
            ("Thanks for every trip", "Thank you for every trip you have taken with us."),
        ],
        "event_invite": [
            ("You're invited", "We'd like to invite you to our next event."),
            ("Join us on the trail", "Join us and meet fellow hikers at our next event."),
            ("Save your spot", "Register and save your spot at our next workshop."),
        ],
        "offer_announcement": [
            ("An offer for you", "We have an offer for you."),
            ("Save on your next trip", "Save on gear for your next trip."),
            ("A deal worth a look", "Here is a deal worth a look."),
        ],
    },
    "zh": {
        "win_back": [
            ("好久不见", "好久不见，我们很想念你。"),
            ("欢迎回来", "欢迎回来，看看为下次出行准备的装备。"),
            ("期待再次出发", "期待与你再次一起出发。"),
        ],
        "cross_sell": [
            ("为你的装备搭配", "这件装备和你已有的装备很搭。"),
            ("一起带上更安心", "和你的装备一起带上，出行更安心。"),
            ("也许你会喜欢", "也许你会喜欢这件适合下次出行的装备。"),
        ],
        "replenish": [
            ("该补货了", "下次出发前，记得补充常用装备。"),
            ("是时候补充了", "是时候补充装备了，出行更从容。"),
            ("续购更方便", "续购常用装备，出行更从容。"),
        ],
        "loyalty": [
            ("感谢有你", "感谢你一直以来的支持。"),
            ("会员专属回馈", "这是给会员的专属回馈。"),
            ("谢谢你的陪伴", "感谢你的陪伴，这份回馈送给你。"),
        ],
        "event_invite": [
            ("诚挚邀请你", "诚挚邀请你参加我们的下一场活动。"),
            ("一起来参加", "欢迎报名参加，与同好一起出发。"),
            ("活动报名开始了", "活动报名已开始，期待见到你。"),
        ],
        "offer_announcement": [
            ("给你的优惠", "我们为你准备了一份优惠。"),
            ("出行装备有优惠", "出行装备正在优惠中。"),
            ("优惠送给你", "这份优惠送给你。"),
        ],
    },
}

CTAS: dict[str, list[str]] = {
    "en": ["Take a look", "See the details", "Explore", "Shop now", "Plan your trip"],
    "zh": ["去看看", "查看详情", "立即查看", "马上选购", "规划行程"],
}

THANKS: dict[str, tuple[str, str]] = {
    "en": ("Thank you", "Thank you for choosing us for your adventures."),
    "zh": ("感谢有你", "感谢你一直选择我们陪你出行。"),
}
