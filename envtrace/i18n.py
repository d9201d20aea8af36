"""Text labels for maps and briefs, in Chinese (``zh``, the default) and English (``en``).

All user-facing words of :mod:`envtrace.maps`, :mod:`envtrace.brief` and the notebooks
live in :data:`LABELS`, so a translation is one dictionary edit.
"""

from __future__ import annotations

__all__ = ["LANGS", "LABELS", "label", "category_label", "colour_label", "direction_labels"]

LANGS: tuple[str, ...] = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        # map layers
        "complaints": "投诉",
        "complaint_grid": "投诉数量（网格）",
        "heatmap": "投诉热力图",
        "events": "聚集事件",
        "suspects": "疑似污染源",
        "areas": "乡镇/街道",
        "basemap_tianditu": "天地图",
        "basemap_amap": "高德地图",
        "basemap_osm": "OpenStreetMap",
        "basemap_none": "空白底图",
        "legend": "图例",
        "n_complaints": "投诉数",
        "n_complainants": "投诉人数",
        "p_value": "显著性 p 值",
        "start": "开始",
        "end": "结束",
        "radius_m": "半径（米）",
        "rank": "排名",
        "score": "得分",
        "distance_m": "距离（米）",
        "bearing_deg": "方位（度）",
        "evidence": "证据",
        "enterprise": "企业",
        "event": "事件",
        "case": "案件",
        "case_status": "台账状态",
        "wind_rose": "风玫瑰",
        "wind_speed": "风速 (m/s)",
        "no_wind": "该时段无风数据",
        "received_at": "受理时间",
        "category": "类别",
        "complaint_id": "投诉编号",
        "count": "数量",
        "grid_note": "公开地图只显示网格计数，不显示投诉人位置",
        # categories
        "cat_odour": "异味",
        "cat_noise": "噪声",
        "cat_dust": "扬尘",
        "cat_water": "水污染",
        "cat_waste": "固废",
        "cat_other": "其他",
        # ledger colours
        "colour_green": "绿（已办结）",
        "colour_blue": "蓝（整改中，按期）",
        "colour_yellow": "黄（临期/反复）",
        "colour_red": "红（超期/复发）",
        # briefs
        "monthly_title": "环境信访投诉月度简报",
        "case_title": "一案一策会商材料",
        "explore_title": "数据探查",
        "kpis": "主要指标",
        "kpi": "指标",
        "this_month": "本月",
        "previous_month": "上月",
        "change": "变化",
        "by_area": "分乡镇/街道",
        "ledger": "四色台账",
        "hotspots": "热点变化",
        "hotspot_new": "新增",
        "hotspot_recurring": "反复",
        "hotspot_intensifying": "加剧",
        "top_suspects": "主要疑似污染源",
        "map": "地图",
        "timeline": "时间线",
        "wind_analysis": "风向分析",
        "alarms": "在线监测超标报警",
        "inspections": "执法检查记录",
        "proposed_plan": "处置方案（建议）",
        "rejects": "被拒记录",
        "categories": "类别分布",
        "no_data": "无",
        "generated": "生成时间",
        "month": "月份",
        "events_sheet": "事件",
        "suspects_sheet": "疑似污染源",
        "kpi_received": "受理投诉",
        "kpi_closed": "办结",
        "kpi_closure_rate": "办结率",
        "kpi_on_time_rate": "按期办结率",
        "kpi_satisfaction_rate": "满意率",
        "kpi_inspections": "执法检查次数",
        "kpi_inspection_person_times": "检查人次",
        "kpi_penalty_cases": "立案处罚",
        "kpi_police_transfers": "移送公安",
        "kpi_recurrences": "复发",
        "kpi_cases_opened": "新立案件",
        "owner": "责任人",
        "deadline": "期限",
        "plan_inspect": "对 {name}（{id}）开展夜间/事件时段现场检查，核查废气收集与治理设施运行",
        "plan_alarms": "调取事件时段在线监测数据，核查 {n} 条超标报警",
        "plan_wind": "按事件时段主导风向布设下风向走航/快检点位",
        "plan_deadline": "责任人 {owner} 于 {deadline} 前反馈整改方案",
        "plan_verify": "整改后回访投诉人并复核，一个月内无反弹方可销号",
    },
    "en": {
        "complaints": "Complaints",
        "complaint_grid": "Complaint counts (grid)",
        "heatmap": "Complaint heat map",
        "events": "Events",
        "suspects": "Suspected sources",
        "areas": "Townships / streets",
        "basemap_tianditu": "Tianditu",
        "basemap_amap": "Amap",
        "basemap_osm": "OpenStreetMap",
        "basemap_none": "Blank",
        "legend": "Legend",
        "n_complaints": "Complaints",
        "n_complainants": "Complainants",
        "p_value": "p-value",
        "start": "Start",
        "end": "End",
        "radius_m": "Radius (m)",
        "rank": "Rank",
        "score": "Score",
        "distance_m": "Distance (m)",
        "bearing_deg": "Bearing (deg)",
        "evidence": "Evidence",
        "enterprise": "Enterprise",
        "event": "Event",
        "case": "Case",
        "case_status": "Ledger status",
        "wind_rose": "Wind rose",
        "wind_speed": "Wind speed (m/s)",
        "no_wind": "No wind data for this period",
        "received_at": "Received",
        "category": "Category",
        "complaint_id": "Complaint",
        "count": "Count",
        "grid_note": "Published maps show grid counts only, never complainants' locations",
        "cat_odour": "Odour",
        "cat_noise": "Noise",
        "cat_dust": "Dust",
        "cat_water": "Water",
        "cat_waste": "Waste",
        "cat_other": "Other",
        "colour_green": "Green (closed)",
        "colour_blue": "Blue (in progress, on time)",
        "colour_yellow": "Yellow (due soon / repeated)",
        "colour_red": "Red (overdue / recurred)",
        "monthly_title": "Monthly environmental complaints briefing",
        "case_title": "Case consultation brief",
        "explore_title": "Explore a dataset",
        "kpis": "Key figures",
        "kpi": "Figure",
        "this_month": "This month",
        "previous_month": "Previous month",
        "change": "Change",
        "by_area": "By township / street",
        "ledger": "Four-colour ledger",
        "hotspots": "Hotspot trends",
        "hotspot_new": "New",
        "hotspot_recurring": "Recurring",
        "hotspot_intensifying": "Intensifying",
        "top_suspects": "Top suspected sources",
        "map": "Map",
        "timeline": "Timeline",
        "wind_analysis": "Wind analysis",
        "alarms": "Online-monitoring alarms",
        "inspections": "Inspection history",
        "proposed_plan": "Proposed plan",
        "rejects": "Rejected records",
        "categories": "Categories",
        "no_data": "None",
        "generated": "Generated",
        "month": "Month",
        "events_sheet": "Events",
        "suspects_sheet": "Suspects",
        "kpi_received": "Complaints received",
        "kpi_closed": "Closed",
        "kpi_closure_rate": "Closure rate",
        "kpi_on_time_rate": "On-time rate",
        "kpi_satisfaction_rate": "Satisfaction rate",
        "kpi_inspections": "Inspections",
        "kpi_inspection_person_times": "Inspection person-times",
        "kpi_penalty_cases": "Penalty cases",
        "kpi_police_transfers": "Police transfers",
        "kpi_recurrences": "Recurrences",
        "kpi_cases_opened": "Cases opened",
        "owner": "Owner",
        "deadline": "Deadline",
        "plan_inspect": "Inspect {name} ({id}) at night / during the event hours; check gas capture and treatment",
        "plan_alarms": "Pull the online-monitoring data of the event hours; review {n} alarms",
        "plan_wind": "Place downwind mobile/quick-test points along the events' prevailing wind",
        "plan_deadline": "Owner {owner} reports a rectification plan by {deadline}",
        "plan_verify": "After rectification, call back complainants and re-inspect; close only after a month without rebound",
    },
}

_DIRS = {
    "zh": ["北", "北东北", "东北", "东东北", "东", "东东南", "东南", "南东南",
           "南", "南西南", "西南", "西西南", "西", "西西北", "西北", "北西北"],
    "en": ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
           "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"],
}


def _lang(lang: str) -> str:
    return lang if lang in LABELS else "zh"


def label(key: str, lang: str = "zh") -> str:
    """The label for ``key`` in ``lang`` (``zh`` or ``en``); the key itself when unknown."""
    return LABELS[_lang(lang)].get(key, LABELS["en"].get(key, key))


def category_label(category: str, lang: str = "zh") -> str:
    """Display name of a complaint category (``odour`` → 异味)."""
    return label(f"cat_{category}", lang) if f"cat_{category}" in LABELS["en"] else str(category)


def colour_label(colour: str, lang: str = "zh") -> str:
    """Display name of a ledger colour (``red`` → 红（超期/复发）)."""
    return label(f"colour_{colour}", lang) if f"colour_{colour}" in LABELS["en"] else str(colour)


def direction_labels(lang: str = "zh") -> list[str]:
    """The 16 compass points clockwise from north."""
    return list(_DIRS[_lang(lang)])
