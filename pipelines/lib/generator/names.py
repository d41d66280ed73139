"""Chinese names: surname frequencies (Wenzhou and national), given-name characters, minority names."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Wenzhou's surnames are dominated by 陈, 林, 王, 李, 张, 黄, 金, 周, 吴, 郑, 潘, 朱 …
WENZHOU_SURNAMES = (
    "陈 12.0 林 5.5 王 5.2 李 4.0 张 3.8 黄 3.6 金 3.0 周 2.8 吴 2.7 郑 2.6 潘 2.3 朱 2.2 叶 2.1 徐 2.0 "
    "刘 1.8 杨 1.7 胡 1.6 蔡 1.5 谢 1.4 池 0.9 薛 0.9 戴 0.9 董 0.9 项 0.8 余 0.8 卢 0.8 麻 0.7 "
    "孙 0.7 邵 0.7 章 0.7 缪 0.6 季 0.6 管 0.6 应 0.5 程 0.5 包 0.5 夏 0.5 雷 0.5 蓝 0.4 钟 0.4 高 0.4 "
    "许 0.4 苏 0.4 郭 0.4 赵 0.4 方 0.4 施 0.4 厉 0.3 万 0.3 诸葛 0.02 欧阳 0.02"
)
NATIONAL_SURNAMES = (
    "王 7.1 李 7.0 张 6.7 刘 5.4 陈 4.5 杨 3.1 黄 2.2 赵 2.1 吴 2.0 周 1.9 徐 1.7 孙 1.5 马 1.4 朱 1.3 "
    "胡 1.3 郭 1.2 何 1.2 罗 1.1 高 1.1 林 1.0 郑 0.9 梁 0.9 谢 0.8 宋 0.8 唐 0.8 许 0.7 韩 0.7 邓 0.7 "
    "冯 0.7 曹 0.7 彭 0.7 曾 0.6 肖 0.6 田 0.6 董 0.6 潘 0.5 袁 0.5 蔡 0.5 蒋 0.5 余 0.5 于 0.5 杜 0.5 "
    "叶 0.5 程 0.5 魏 0.4 苏 0.4 吕 0.4 丁 0.4 任 0.4 卢 0.4 姚 0.4 沈 0.4 钟 0.4 姜 0.4 崔 0.4 谭 0.4 "
    "陆 0.4 范 0.3 汪 0.3 廖 0.3 石 0.3 金 0.3 韦 0.3 贾 0.3 夏 0.3 付 0.3 方 0.3 邹 0.3 熊 0.3 白 0.3"
)
MALE_CHARS = ["伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳", "建", "国", "东", "文", "晨", "博", "海", "峰", "志", "成", "兵", "亮", "新", "良", "锋", "乐", "海", "振", "荣", "晓", "一", "子", "轩", "睿", "泽", "宇", "浩", "豪", "昊", "瑞", "航", "晨"]  # noqa: E501
FEMALE_CHARS = ["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "颖", "琳", "洁", "红", "梅", "丹", "倩", "莉", "萍", "晶", "佳", "欣", "怡", "雅", "思", "涵", "琪", "诗", "梦", "悦", "可", "馨", "彤", "瑶", "璐", "晓", "月", "春", "秀", "英", "华", "兰", "凤", "云", "玉", "珍", "素", "美", "爱", "一", "子", "依", "语", "若", "萱", "欣", "妍"]  # noqa: E501
# Minority names written with the middle dot (Uyghur, Kazakh …), with their GB/T 3304 ethnicity code.
DOT_NAMES = [
    ("阿不都热依木·买买提", "05", 1), ("艾合买提·吐尔逊", "05", 1), ("买买提·艾力", "05", 1),
    ("努尔兰·哈力木", "17", 1), ("叶尔兰·努尔兰", "17", 1), ("阿依古丽·买买提", "05", 2),
    ("古丽娜尔·吐尔逊", "05", 2), ("帕提古丽·艾则孜", "05", 2), ("阿依努尔·卡德尔", "17", 2),
    ("扎西·次仁", "04", 1), ("卓玛·次仁", "04", 2),
]
# Simplified -> traditional characters (a 'traditional character' name variant).
TRADITIONAL = str.maketrans("陈张黄郑刘杨赵吴叶许苏卢华国丽军伟红东龙飞宁凤兰云杰涛鹏辉斌刚静艳娟霞燕玲婷洁梅莉萍",
                            "陳張黃鄭劉楊趙吳葉許蘇盧華國麗軍偉紅東龍飛寧鳳蘭雲傑濤鵬輝斌剛靜艷娟霞燕玲婷潔梅莉萍")
TYPO_CHARS = "玮强磊钧勇洁涛彬超铭钢坪晖朋桦菲鑫"


def _parse(table: str) -> tuple[pa.Array, np.ndarray]:
    parts = table.split()
    names, weights = parts[0::2], np.array([float(w) for w in parts[1::2]])
    return pa.array(names), weights / weights.sum()


WZ_SURNAMES, WZ_P = _parse(WENZHOU_SURNAMES)
CN_SURNAMES, CN_P = _parse(NATIONAL_SURNAMES)
_MALE = pa.array(MALE_CHARS)
_FEMALE = pa.array(FEMALE_CHARS)
_EMPTY = pa.array([""])


def surnames(rng: np.random.Generator, n: int, wenzhou: np.ndarray) -> pa.Array:
    """Surnames: Wenzhou frequencies where `wenzhou`, national frequencies elsewhere."""
    wz = WZ_SURNAMES.take(pa.array(rng.choice(len(WZ_P), size=n, p=WZ_P)))
    cn = CN_SURNAMES.take(pa.array(rng.choice(len(CN_P), size=n, p=CN_P)))
    return pc.if_else(pa.array(wenzhou), wz, cn)


def given_names(rng: np.random.Generator, sex: np.ndarray) -> pa.Array:
    """One- or two-character given names by sex (1 male, 2 female); ~30% single-character."""
    n = len(sex)
    male = pa.array(sex == 1)
    a = pc.if_else(male, _MALE.take(pa.array(rng.integers(0, len(_MALE), n))),
                   _FEMALE.take(pa.array(rng.integers(0, len(_FEMALE), n))))
    b = pc.if_else(male, _MALE.take(pa.array(rng.integers(0, len(_MALE), n))),
                   _FEMALE.take(pa.array(rng.integers(0, len(_FEMALE), n))))
    b = pc.if_else(pa.array(rng.random(n) < 0.3), _EMPTY.take(pa.array(np.zeros(n, dtype=np.int64))), b)
    return pc.binary_join_element_wise(a, b, "")


def dot_names(rng: np.random.Generator, sex: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Minority names with `·` matching each sex, and their ethnicity codes (int)."""
    idx = np.empty(len(sex), dtype=np.int64)
    for s in (1, 2):
        pool = np.array([i for i, (_, _, ps) in enumerate(DOT_NAMES) if ps == s])
        m = sex == s
        idx[m] = rng.choice(pool, size=int(m.sum()))
    names = pa.array([n for n, _, _ in DOT_NAMES]).take(pa.array(idx))
    eth = np.array([int(e) for _, e, _ in DOT_NAMES])[idx]
    return names, eth
