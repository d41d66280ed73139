"""Reason and flag codes in the words a department clerk reads (Chinese and English)."""

from __future__ import annotations

REASONS: dict[str, tuple[str, str]] = {
    "ID_MISSING": ("身份证号缺失", "citizen ID missing"),
    "ID_MALFORMED": ("身份证号长度或字符错误", "citizen ID has a wrong length or characters"),
    "ID_CHECKSUM": ("身份证号校验码错误", "citizen ID check character is wrong"),
    "ID_BIRTH_DATE": ("身份证号内出生日期不存在或晚于今天", "birth date inside the ID is impossible or in the future"),
    "ID_REGION": ("身份证号地址码不存在", "address code of the ID is neither current nor retired"),
    "ID_PRECISION_LOST": (
        "身份证号被 Excel 转为数字，末几位已丢失", "Excel turned the ID into a number; its last digits are lost"
    ),
    "DATE_INVALID": ("日期无法识别", "date cannot be read"),
    "VALUE_INVALID": ("取值不在代码表内", "value is not in the feed's code list"),
    "KEY_CONFLICT": ("同一交付中同一主键取值不同", "same natural key with different values in one delivery"),
    "ROW_MALFORMED": ("行字段数错误或含非法字节", "wrong number of fields or undecodable bytes"),
}
FLAGS: dict[str, tuple[str, str]] = {
    "SEX_MISMATCH": ("性别与身份证号不符", "sex contradicts the ID's sex digit"),
    "BIRTH_DATE_MISMATCH": ("出生日期与身份证号不符", "birth date contradicts the ID"),
    "NAME_MISMATCH": ("姓名与户籍/居住登记不一致", "name differs from the backbone feeds"),
    "MULTIPLE_HUKOU": ("一人多户", "one ID registered in two households"),
    "ACTIVITY_AFTER_DEATH": ("死亡后仍有业务记录", "activity dated after the recorded death"),
    "BENEFIT_AFTER_DEATH": ("死亡后仍在发放待遇", "benefit still paid after the recorded death"),
    "UNDERAGE_MARRIAGE": ("未达法定婚龄登记结婚", "marriage below the legal age"),
    "BIGAMY": ("前一婚姻未解除又登记结婚", "second marriage while the first is not dissolved"),
    "SAME_SEX_MARRIAGE_RECORD": (
        "婚姻登记双方身份证性别位相同", "both IDs of a marriage record carry the same sex digit"
    ),
    "SHARES_NOT_100": ("按份共有份额合计不等于100%", "按份共有 shares of one unit do not add up to 100%"),
    "NOT_IN_BACKBONE": (
        "不在户籍及居住登记中（实有人口线索）", "in neither backbone feed (a lead for the actual population)"
    ),
}
