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


@dataclass
class SheetManifest:
    written: int = 0  # non-blank data rows written
    dropped: int = 0  # the spec drops them silently
    rejected: int = 0  # the spec rejects them (reported)
    checks: list[dict[str, Any]] = field(default_factory=list)  # planted rows and the values the spec gives

    @property
    def published(self) -> int:
        return self.written - self.dropped - self.rejected


def _company(rng: random.Random) -> str:
    return rng.choice(CITIES) + rng.choice(TRADES) + rng.choice(SUFFIXES)


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


def income_detail_rows(period: str, rows: int, rng: random.Random) -> tuple[list[str], list[list[Any]]]:
    headers = [
        "月度",
        "业务类型",
        "计划类型",
        "计划号",
        "计划名称",
        "组合类型",
        "组合代码",
        "组合名称",
        "客户名称",
        "固费",
        "浮费",
        "回补",
        "税",
        "机构",
        "机构名称",
    ]
    data = []
    for _ in range(rows):
        plan_type = rng.choice(["单一计划", "集合计划"])
        company = _company(rng)
        branch = rng.choice(list(BRANCHES))
        data.append(
            [
                int(period),
                rng.choice(["企年受托", "企年投资"]),
                plan_type,
                rng.choice("PS") + f"{rng.randint(0, 9999):04d}",
                company + "企业年金计划" if plan_type == "单一计划" else "平安相伴今生企业年金集合计划",
                rng.choice(["含权", "固收", None]),
                rng.choice([f"F{rng.randint(1000, 99999)}", None]),
                "组合B",
                company if rng.random() < 0.4 and plan_type == "单一计划" else None,
                round(rng.uniform(-100, 1e6), 2),
                round(rng.uniform(0, 1e4), 2),
                0,
                round(rng.uniform(0, 100), 2),
                BRANCHES[branch],
                branch,
            ]
        )
    return headers, data


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
    year2, month = period[2:4], int(period[4:])
    month_root = data_dir / "real_data" / period / "收集数据"
    collect = month_root / "数据采集"
    name = f"【for年金机构经营分析】{year2}年{month}月年金规模收入数据 {month % 12 + 1:02d}11.xlsx"

    scale, scale_manifest = scale_detail_rows(period, rows, rng)
    income_headers, income = income_detail_rows(period, max(rows * 3 // 4, 10), rng)
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

    manifest = {
        "period": period,
        "workbook": str((collect / "V2" / name).relative_to(data_dir)),
        "annuity_performance": {
            "sheet": "规模明细",
            "written": scale_manifest.written,
            "dropped": scale_manifest.dropped,
            "rejected": scale_manifest.rejected,
            "published": scale_manifest.published,
            "checks": scale_manifest.checks,
        },
    }
    (data_dir / f"sample_manifest_{period}.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return manifest
