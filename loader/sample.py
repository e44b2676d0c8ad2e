"""`wdh sample`: write a realistic month of workbooks (spec/sample-shapes.md).

The tree has version folders, noise files (lock files, replies, mail) and, in every
sheet, the dirty shapes the cleansing rules exist for. Planted rows come first, each
with the outcome the spec gives for it; `manifest` records how many rows the
generator wrote, and how many of them the spec says must be dropped or rejected, so
tests compare the warehouse against the spec, not against the code under test.
Company names are invented.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCALE_HEADERS = [
    "月度",
    "业务类型",
    "计划类型",
    "计划代码",
    "计划名称",
    "组合类型",
    "组合代码",
    "组合名称",
    " 客户名称",
    "期初资产规模",
    "期末\n资产规模",
    "供款",
    "流失（含待遇支付）",
    "流失",
    "待遇支付",
    "投资收益",
    "当期收益率",
    "机构代码",
    "机构",
    "子企业号",
    "子企业名称",
    "集团企业客户号",
    "集团企业客户名称",
    "备注",
    "",
    "id",
]
BUSINESS_TYPES = ["企年受托", "企年投资", "职年受托", "职年投资"]
PRODUCT_LINES = {"企年投资": "PL201", "企年受托": "PL202", "职年投资": "PL203", "职年受托": "PL204"}
BRANCHES = {
    "北京": "G01",
    "上海": "G02",
    "广东": "G04",
    "深圳": "G05",
    "江苏": "G10",
    "浙江": "G12",
    "湖北": "G09",
    "四川": "G26",
    "山东": "G21",
    "内蒙古": "G31",
}
CITIES = ["华东", "华南", "北方", "西部", "东方", "长江", "珠江", "黄河", "天山", "昆仑", "泰山", "海岱"]
TRADES = ["电力", "钢铁", "机械", "化工", "交通", "建设", "物流", "医药", "电子", "能源", "港务", "纺织"]
SUFFIXES = ["股份有限公司", "集团有限公司", "有限责任公司", "有限公司"]
WORDS = "安泰华信达恒通宏远瑞丰盛鑫祥和润德隆兴广源嘉利新联合创金银海天正大中宝富永昌明光"


@dataclass
class SheetManifest:
    written: int = 0  # non-blank data rows written
    dropped: int = 0  # the spec drops them silently
    rejected: int = 0  # the spec rejects them (reported)
    checks: list[dict[str, Any]] = field(default_factory=list)  # planted rows and the values the spec gives

    @property
    def published(self) -> int:
        return self.written - self.dropped - self.rejected


def _invent_company(rng: random.Random) -> str:
    """An invented company name (about 800,000 combinations)."""
    return (
        rng.choice(CITIES) + rng.choice(WORDS) + rng.choice(WORDS) + rng.choice(TRADES) + rng.choice(SUFFIXES)
    )


_customers: list[str] = []  # the month's customers, set by generate_month


def _company(rng: random.Random) -> str:
    """A customer of the month: customers hold several plans and portfolios, so names
    repeat, as in real months (≈10,000 customers for ≈35,000 rows)."""
    return rng.choice(_customers) if _customers else _invent_company(rng)


def _scale_row(rng: random.Random, period: int) -> list[Any]:
    business = rng.choice(BUSINESS_TYPES)
    plan_type = rng.choice(["单一计划", "单一计划", "集合计划"])
    plan = (
        rng.choice("PSZ") + f"{rng.randint(0, 9999):04d}"
        if rng.random() < 0.8
        else rng.choice(["XNP", "ZNT", "QNA"]) + f"{rng.randint(0, 999):03d}"
    )
    name = _company(rng) if plan_type == "单一计划" or rng.random() < 0.3 else None
    branch = rng.choice(list(BRANCHES))
    opening = round(rng.uniform(1e4, 3e9), 2)
    closing = round(opening * rng.uniform(0.9, 1.1), 2)
    group_no = "C" + "".join(rng.choice("0123456789") for _ in range(18)) if rng.random() < 0.8 else None
    return [
        period,
        business,
        plan_type,
        plan,
        (name or "某集合") + "企业年金计划",
        rng.choice(["单一含权", "单一固收", "集合", None]),
        rng.choice([None, f"F{rng.randint(0, 999999):06d}", rng.randint(1000, 99999)]),
        rng.choice(["组合A", "组合B", None]),
        name,
        opening,
        closing,
        round(rng.uniform(-1e5, 1e7), 2),
        0,
        0,
        round(rng.uniform(0, 1e5), 2),
        round(rng.uniform(-1e6, 1e8), 2) if rng.random() < 0.3 else None,
        round(rng.uniform(-0.05, 0.12), 6) if rng.random() < 0.9 else None,
        BRANCHES[branch],
        branch,
        None,
        None,
        group_no,
        name,
        None,
        None,
        None,
    ]


def date_shapes(year: int, month: int) -> list[tuple[Any, int]]:
    """Every date shape of spec §0.3 for a day of the month, with the day it means."""
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    return [
        (dt.datetime(year, month, 15), 15),
        (year * 100 + month, 1),
        (f"{year}{month:02d}", 1),
        (f"{year}{month:02d}15", 15),
        (f"{year}-{month:02d}", 1),
        (f"{year}-{month:02d}-15", 15),
        (f"{year}年{month}月", 1),
        (f"{year}年{month}月5日", 5),
        (f"{year}年{month}月5", 5),
        (f"{year % 100}年{month}月", 1),
        (f"{year % 100}年{month}月5日", 5),
        (f"{year}年{month}月".translate(full_width), 1),
    ]


def scale_detail_rows(period: str, rows: int, rng: random.Random) -> tuple[list[list[Any]], SheetManifest]:
    """规模明细: planted dirty rows first (with the spec's outcome), then realistic filler."""
    p = int(period)
    year, month = int(period[:4]), int(period[4:])
    m = SheetManifest()
    planted: list[tuple[list[Any], str, dict[str, Any]]] = []

    def plant(values: dict[str, Any], outcome: str = "published", **expect: Any) -> None:
        row = _scale_row(rng, p)
        header_index = {h.strip().replace("\n", ""): i for i, h in enumerate(SCALE_HEADERS)}
        for key, value in values.items():
            row[header_index[key]] = value
        planted.append((row, outcome, expect))

    # spec/sample-shapes.md §4, the minimal synthetic row
    plant(
        {
            "月度": p,
            "业务类型": "企年受托",
            "计划类型": "集合计划",
            "计划代码": None,
            "计划名称": "测试集合计划",
            "组合类型": None,
            "组合代码": "F001",
            "组合名称": "组合A",
            "客户名称": "测试公司（已转出）",
            "期初资产规模": 90,
            "期末资产规模": 100,
            "供款": 10,
            "流失（含待遇支付）": 0,
            "流失": 0,
            "待遇支付": 0,
            "投资收益": 1,
            "当期收益率": "1.5%",
            "机构代码": "G99",
            "机构": "北京",
            "子企业号": None,
            "子企业名称": None,
            "集团企业客户号": "C10001",
            "集团企业客户名称": "测试集团",
        },
        计划代码="AN001",
        组合代码="001",
        机构代码="G01",
        产品线代码="PL202",
        客户名称="测试公司",
        年金账户名="测试公司（已转出）",
        年金账户号="10001",
        当期收益率="0.015000",
        company_id="ING7QPWNUWOQ2FKJN2",
    )  # spec test vector, default salt
    plant(
        {
            "期末资产规模": "¥1,234.56",
            "供款": "-",
            "流失": "N/A",
            "计划代码": "1P0290",
            "计划类型": "单一计划",
        },
        期末资产规模="1234.5600",
        供款=None,
        流失=None,
        计划代码="P0290",
    )
    plant(
        {"期末资产规模": "6.237423e+09", "计划代码": "p-0290", "当期收益率": "5.36", "机构": "(空白)"},
        期末资产规模="6237423000.0000",
        计划代码="P0290",
        当期收益率="0.053600",
        机构代码="G00",
    )
    plant(
        {
            "组合代码": 12345,
            "机构": "内蒙",
            "集团企业客户号": "CCU123456789012345",
            "期初资产规模": -140292.25,
        },
        组合代码="12345",
        机构代码="G31",
        年金账户号="CU123456789012345",
        期初资产规模="-140292.2500",
    )
    plant(
        {"计划代码": "FP0001", "计划类型": "集合计划", "客户名称": None},
        company_id="614810477",
        客户名称=None,
    )
    plant(
        {
            "计划代码": "NA",
            "计划类型": "单一计划",
            "客户名称": "NA",
            "业务类型": "职年受托",
            "组合代码": None,
        },
        计划代码="AN002",
        客户名称=None,
        company_id=None,
        组合代码="QTAN003",
        产品线代码="PL204",
    )
    plant({"客户名称": "「某公司」（集团）", "月度": f"{year}年{month}月"}, 客户名称="某公司")
    plant(
        {"客户名称": "原平市某煤业有限公司", "月度": dt.datetime(year, month, 1)},
        客户名称="原平市某煤业有限公司",
    )
    plant({"客户名称": "ＡＢＣ 有限公司-BSU280", "月度": f"{year}-{month:02d}"}, 客户名称="ABC有限公司")
    for shape, day in date_shapes(year, month):  # any day of the --period month belongs to it
        plant({"月度": shape}, 月度=f"{year}-{month:02d}-{day:02d}")
    # drops (spec §1.4): no plan code after defaults, 月度 unparseable
    plant({"计划代码": None, "计划类型": "职业年金"}, "dropped")
    plant({"月度": "本月"}, "dropped")
    # rejects: invalid number, rate out of range, year outside 2000–2030
    plant({"期末资产规模": "Unknown"}, "rejected", _reject_column="期末资产规模")
    plant({"当期收益率": "1500%"}, "rejected", _reject_column="当期收益率")
    plant({"月度": "199912"}, "rejected", _reject_column="月度")

    data: list[list[Any]] = []
    for row, outcome, expect in planted:
        data.append(row)
        m.dropped += outcome == "dropped"
        m.rejected += outcome == "rejected"
        m.checks.append({"row": len(data) + 1, "outcome": outcome, "expect": expect})
    data.append([None] * len(SCALE_HEADERS))  # a fully blank row in the middle: dropped at read time
    duplicate = _scale_row(rng, p)
    data += [duplicate, list(duplicate)]  # exact duplicates are legitimate detail rows: both kept
    while len(data) - 1 < rows:
        data.append(_scale_row(rng, p))
    m.written = len(data) - 1
    return data, m


def _income_headers(period: str) -> list[str]:
    """收入明细 header drift (spec §2.1): ≤2024-11 计划号/机构; 2024-12…2026-01 计划代码/机构代码;
    2026-02 onward 计划号/机构 again and no 浮费, 回补, 税."""
    plan, branch = ("计划代码", "机构代码") if "202412" <= period < "202602" else ("计划号", "机构")
    fees = ["固费"] if period >= "202602" else ["固费", "浮费", "回补", "税"]
    return ["月度", "业务类型", "计划类型", plan, "计划名称", "组合类型", "组合代码", "组合名称", "客户名称",
            *fees, branch, "机构名称"]  # fmt: skip


def _income_row(rng: random.Random, period: int) -> dict[str, Any]:
    plan_type = rng.choice(["单一计划", "单一计划", "集合计划"])
    company = _company(rng)
    branch = rng.choice(list(BRANCHES))
    return {
        "月度": period,
        "业务类型": rng.choice(["企年受托", "企年投资"]),
        "计划类型": plan_type,
        "计划代码": rng.choice("PS") + f"{rng.randint(0, 9999):04d}",
        "计划名称": company + "企业年金计划" if plan_type == "单一计划" else "平安相伴今生企业年金集合计划",
        "组合类型": rng.choice(["含权", "固收", None]),
        "组合代码": rng.choice([f"F{rng.randint(1000, 99999)}", None]),
        "组合名称": "组合B",
        "客户名称": company if plan_type == "单一计划" and rng.random() < 0.4 else None,
        "固费": round(rng.uniform(-100, 1e6), 2),
        "浮费": round(rng.uniform(0, 1e4), 2),
        "回补": 0,
        "税": round(rng.uniform(0, 100), 2),
        "机构代码": BRANCHES[branch],
        "机构名称": branch,
    }


def income_detail_rows(
    period: str, rows: int, rng: random.Random
) -> tuple[list[str], list[list[Any]], SheetManifest]:
    """收入明细 in the header variant of the period; planted rows first, then filler."""
    headers = _income_headers(period)
    names = {"计划号": "计划代码", "机构": "机构代码"}
    p = int(period)
    m = SheetManifest()
    data: list[list[Any]] = []

    def add(values: dict[str, Any], outcome: str = "published", **expect: Any) -> None:
        row = _income_row(rng, p) | values
        data.append([row.get(names.get(h, h)) for h in headers])
        m.rejected += outcome == "rejected"
        m.checks.append({"row": len(data) + 1, "outcome": outcome, "expect": expect})

    # spec/sample-shapes.md §4, the minimal income row (浮费/回补/税 blank or missing → 0)
    add(
        {
            "月度": f"{period[:4]}年{int(period[4:])}月",
            "业务类型": "企年投资",
            "计划类型": "单一计划",
            "计划代码": "S0001",
            "计划名称": "某某股份有限公司企业年金计划",
            "组合类型": "固收",
            "组合代码": "F1234",
            "组合名称": "组合B",
            "客户名称": 0,
            "固费": "1,234.5",
            "浮费": None,
            "回补": None,
            "税": None,
            "机构代码": "G05",
            "机构名称": "深圳",
        },
        客户名称="某某股份有限公司",
        年金账户名="某某股份有限公司",
        固费="1234.5000",
        浮费="0.0000",
        回补="0.0000",
        税="0.0000",
        组合代码="1234",
        机构代码="G05",
        产品线代码="PL201",
    )
    add(
        {
            "计划类型": "集合计划",
            "客户名称": None,
            "计划名称": "平安相伴今生企业年金集合计划",
            "计划代码": "P0190",
        },
        客户名称=None,
        company_id=None,
    )
    add(
        {"固费": "¥1,234.00", "计划代码": "FP0001", "计划类型": "集合计划"},
        固费="1234.0000",
        company_id="614810477",
    )
    add({"机构名称": "不存在机构", "机构代码": "G25"}, 机构代码="G00")
    year, month = int(period[:4]), int(period[4:])
    for shape, day in date_shapes(year, month):
        add({"月度": shape}, 月度=f"{year}-{month:02d}-{day:02d}")
    add({"固费": "待定"}, "rejected", _reject_column="固费")
    add({"业务类型": "团体业务"}, "rejected", _reject_column="业务类型")
    add({"月度": "本月"}, "rejected", _reject_column="月度")
    add({"计划代码": None, "计划类型": "其他"}, "rejected", _reject_column="计划代码")
    data.append([None] * len(headers))  # blank row: dropped at read time (it aborted the original's run)
    while len(data) - 1 < rows:
        row = _income_row(rng, p)
        data.append([row.get(names.get(h, h)) for h in headers])
    m.written = len(data) - 1
    return headers, data, m


LEDGER_HEADERS = {
    "企年受托中标(空白)": [
        "区域",
        "年金中心",
        "机构",
        "业务类型",
        "客户全称",
        "company_id",
        "受托人",
        "计划规模",
        "年缴规模",
        "计划类型",
        "中标日期",
        "证明材料",
        "上报月份",
        "上报人",
        "考核有效",
        "年金计划号",
        "客户类型",
        "备注",
    ],
    "企年投资中标(空白)": [
        "区域",
        "年金中心",
        "业务类型",
        "客户类型",
        "机构",
        "客户全称",
        "company_id",
        "受托人",
        "计划规模",
        "年缴规模",
        "计划类型",
        "中标日期",
        "证明材料",
        "战区前五大",
        "中心前十大",
        "机构前十大",
        "五亿以上",
        "上报月份",
        "考核标签",
        "上报人",
        "考核有效",
        "年金计划号",
        "备注",
    ],
    "企年受托流失(解约)": [
        "区域",
        "年金中心",
        "机构",
        "客户全称",
        "company_id",
        "年金计划号",
        "计划类型",
        "受托人",
        "计划规模",
        "年缴规模",
        "流失日期",
        "证明材料",
        "上报月份",
        "上报人",
        "考核有效",
        "备注",
        "业务类型",
        "客户类型",
        "考核标签",
        "",
    ],
    "企年投资流失(解约)": [
        "区域",
        "年金中心",
        "机构",
        "业务类型",
        "客户类型",
        "客户全称",
        "company_id",
        "年金计划号",
        "受托人",
        "计划规模",
        "年缴规模",
        "计划类型",
        "流失日期",
        "证明材料",
        "战区前五大",
        "中心前十大",
        "机构前十大",
        "五亿以上",
        "上报月份",
        "上报人",
        "考核有效",
        "备注",
    ],
}


def _ledger_row(rng: random.Random, period: str, sheet: str) -> dict[str, Any]:
    months = [
        period,
        f"{period[:4]}年{int(period[4:])}月",
        f"{int(period[:4]) - (period[4:] == '01')}{(int(period[4:]) - 2) % 12 + 1:02d}",
    ]
    trustee = "受托" in sheet
    return {
        "区域": rng.choice(["华南", "华北", "华东"]),
        "年金中心": "中心" + rng.choice("ABC"),
        "机构": rng.choice(list(BRANCHES)),
        "业务类型": rng.choice(["受托", "企年受托"] if trustee else ["投资", "投管"]),
        "客户全称": _company(rng),
        "company_id": rng.choice([None, None, "N", str(rng.randint(600000000, 699999999))]),
        "受托人": "原受托机构" + rng.choice("ABC"),
        "计划规模": round(rng.uniform(0.01, 5), 4),
        "年缴规模": round(rng.uniform(0.001, 1), 4),
        "计划类型": rng.choice(["集合", "单一"]),
        "中标日期": rng.choice(
            [None, f"{period[:4]}年{int(period[4:])}月", dt.datetime(int(period[:4]), 1, 15)]
        ),
        "流失日期": rng.choice([None, f"{period}15"]),
        "证明材料": rng.choice(["合同", None]),
        "上报月份": rng.choice(months),
        "上报人": "张三",
        "考核有效": rng.choice([0, 1]),
        "年金计划号": rng.choice([None, None, f"S{rng.randint(1000, 9999)}"]),
        "客户类型": rng.choice(["新客", "存量"]),
        "备注": None,
        "战区前五大": None,
        "中心前十大": None,
        "机构前十大": None,
        "五亿以上": None,
        "考核标签": None,
    }


def _add_ledger_row(
    rng: random.Random,
    period: str,
    sheet: str,
    headers: list[str],
    data: list[list[Any]],
    m: SheetManifest,
    values: dict[str, Any],
    outcome: str = "published",
    **expect: Any,
) -> None:
    row = _ledger_row(rng, period, sheet) | values
    data.append([row.get(h) for h in headers])
    m.dropped += outcome == "dropped"
    m.checks.append({"sheet": sheet, "row": len(data) + 1, "outcome": outcome, "expect": expect})


def ledger_sheets(
    period: str, rows: int, rng: random.Random
) -> tuple[dict[str, tuple[list[str], list[list[Any]]]], dict[str, SheetManifest]]:
    """The ledger workbook: two award and two loss sheets, plus sheets that must be ignored."""
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {}
    manifests = {"annual_award": SheetManifest(), "annual_loss": SheetManifest()}
    for sheet, headers in LEDGER_HEADERS.items():
        domain = "annual_award" if "中标" in sheet else "annual_loss"
        m = manifests[domain]
        data: list[list[Any]] = []

        add = functools.partial(_add_ledger_row, rng, period, sheet, headers, data, m)

        if sheet == "企年投资中标(空白)":  # spec/sample-shapes.md §4
            add(
                {
                    "区域": "华南",
                    "年金中心": "中心C",
                    "业务类型": "投管",
                    "客户类型": "新客",
                    "机构": "未知机构",
                    "客户全称": "新客中标（已转出）",
                    "company_id": None,
                    "受托人": "原受托机构C",
                    "计划规模": 0.5,
                    "年缴规模": 0.1,
                    "计划类型": "集合",
                    "中标日期": f"{period[:4]}年{int(period[4:])}月",
                    "上报月份": period,
                    "年金计划号": None,
                },
                业务类型="企年投资",
                产品线代码="PL201",
                计划类型="集合计划",
                机构代码="G00",
                上报客户名称="新客中标（已转出）",
                客户名称="新客中标",
                年金计划号="AN001",
            )
            add(
                {"计划规模": "1,234.5", "年缴规模": "待定", "company_id": " 602671512 ", "业务类型": "投资"},
                计划规模="1234.5000",
                年缴规模=None,
                company_id="602671512",
            )
            add({"上报月份": None}, "dropped")
        elif sheet == "企年受托中标(空白)":
            add(
                {"客户全称": "宣城城建城市运营管理有限公司", "业务类型": "受托", "机构": "北京"},
                company_id="1918884945",
                业务类型="企年受托",
                机构代码="G01",
                产品线代码="PL202",
            )
            add({"客户全称": None}, "dropped")
        elif sheet == "企年受托流失(解约)":
            add(
                {"流失日期": f"{period}15", "上报月份": period, "计划类型": "单一", "年金计划号": None},
                流失日期=f"{period[:4]}-{period[4:]}-15",
                年金计划号="AN002",
            )
        while len(data) < rows:
            add({})
        m.written += len(data)
        sheets[sheet] = (headers, data)
    for ignored in ("数据源", "历史数据", "续签客户清单", "企年受托战客", "企年投资战客"):
        sheets[ignored] = (["说明"], [["不是数据源"]])
    return sheets, manifests


def trustee_performance_rows(rng: random.Random) -> tuple[list[str], list[list[Any]], SheetManifest]:
    headers = ["年", "月", "计划代码", "公司代码", "收益率", "净值", "规模"]
    m = SheetManifest()
    data = [["2024年", "11月", "p-0290", "c_01", "5.5%", 1.2345, 1000.456]]
    m.checks.append(
        {
            "row": 2,
            "outcome": "published",
            "expect": {
                "plan_code": "P0290",
                "company_code": "C01",
                "return_rate": "0.055000",
                "fund_scale": "1000.46",
            },
        }
    )
    for _ in range(9):
        data.append(
            [
                2024,
                11,
                f"S{rng.randint(1000, 9999)}",
                f"C{rng.randint(10, 99)}",
                round(rng.uniform(-0.05, 0.1), 4),
                round(rng.uniform(0.9, 1.5), 4),
                round(rng.uniform(1e3, 1e6), 2),
            ]
        )
    data.append([None, None, None, "C1", None, None, None])
    m.dropped = 1
    m.written = len(data)
    return headers, data, m


def write_workbook(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for title, (headers, rows) in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def generate_month(data_dir: Path, period: str, rows: int = 200, seed: int = 20241101) -> dict[str, Any]:
    """Write one period's tree under data_dir; return (and save) the manifest."""
    rng = random.Random(seed)
    _customers[:] = sorted({_invent_company(rng) for _ in range(max(50, min(rows // 3, 20000)))})
    year2, month = period[2:4], int(period[4:])
    month_root = data_dir / "real_data" / period / "收集数据"
    collect = month_root / "数据采集"
    name = f"【for年金机构经营分析】{year2}年{month}月年金规模收入数据 {month % 12 + 1:02d}11.xlsx"

    scale, scale_manifest = scale_detail_rows(period, rows, rng)
    income_headers, income, income_manifest = income_detail_rows(period, max(rows * 3 // 4, 20), rng)
    workbook = {"规模明细": (SCALE_HEADERS, scale), "收入明细": (income_headers, income)}
    # V1 holds an older draft, V2 the delivered workbook with noise beside it, V3 no match
    write_workbook(collect / "V1" / name.replace(" ", " 10"), {"规模明细": (SCALE_HEADERS, scale[:5])})
    write_workbook(collect / "V2" / name, workbook)
    (collect / "V2" / f"~${name}").write_bytes(b"lock")
    write_workbook(collect / "V2" / "回复：规模收入数据核对.xlsx", {"Sheet1": (["说明"], [["已核对"]])})
    (collect / "V2" / f"关于{month}月数据的说明.eml").write_text(
        "Subject: 说明\n\n见附件。\n", encoding="utf-8"
    )
    (collect / "V3").mkdir(parents=True, exist_ok=True)
    (collect / "V3" / "其他说明.docx").write_bytes(b"not a workbook")

    business = month_root / "业务收集"
    ledger, ledger_manifests = ledger_sheets(period, max(rows // 20, 5), rng)
    write_workbook(business / "V1" / "台账登记v1.xlsx", ledger)
    write_workbook(
        business / "V1" / "考核加扣分反馈汇总.xlsx",
        {"表1 受托考核加扣分反馈": (["说明"], [["-"]]), "表2 投资考核加扣分反馈": (["说明"], [["-"]])},
    )
    trustee_headers, trustee, trustee_manifest = trustee_performance_rows(rng)
    write_workbook(
        business / f"每月业务收集-{month}月" / f"{month}月受托业绩.xlsx",
        {"Sheet1": (trustee_headers, trustee)},
    )

    def entry(sheet: str, m: SheetManifest) -> dict[str, Any]:
        return {
            "sheet": sheet,
            "written": m.written,
            "dropped": m.dropped,
            "rejected": m.rejected,
            "published": m.published,
            "checks": m.checks,
        }

    manifest = {
        "period": period,
        "workbook": str((collect / "V2" / name).relative_to(data_dir)),
        "annuity_performance": entry("规模明细", scale_manifest),
        "annuity_income": entry("收入明细", income_manifest),
        "annual_award": entry("企年受托中标(空白)+企年投资中标(空白)", ledger_manifests["annual_award"]),
        "annual_loss": entry("企年受托流失(解约)+企年投资流失(解约)", ledger_manifests["annual_loss"]),
        "sandbox_trustee_performance": entry("Sheet1", trustee_manifest),
    }
    (data_dir / f"sample_manifest_{period}.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return manifest
