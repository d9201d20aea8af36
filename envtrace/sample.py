"""A seeded synthetic county: the bundled sample dataset and the attribution test world.

:func:`generate` builds a whole world — a Shandong county seat near 35.6 N, 117.0 E with
its townships (乡镇/街道), neighbourhoods (小区/村), enterprises, a year of hourly wind,
a few *true* polluters with realistic behaviour, and the citizens' complaints their
emissions cause — and :meth:`World.write` writes it as a dataset folder (see
``DESIGN.md``) plus the ground truth in ``truth/``.

The world's physics is written here on purpose and shares no code with
:mod:`envtrace.wind` or :mod:`envtrace.attribution`: odour and dust travel in a
Gaussian plume with the Pasquill–Gifford dispersion of Martin (1976) (the analysis uses
Briggs' curves), with hourly plume meander that the wind station does not see, Briggs
plume rise and a wind-profile power law; noise decays with distance. Residents complain
with a probability that grows with exposure (logistic in log concentration over an odour
threshold), weighted by population and a heavy-tailed per-household propensity, so that
repeat callers and households that never call both exist.

Decoys — innocent enterprises of the same polluting industries — sit closer to the
complaining homes than the true source (a restaurant's are the other restaurants of its
street, nearer or farther), and some true sources are far away (large plants
whose night plumes travel far under stable conditions), so "the nearest factory of a
matching industry" is often the wrong answer.

Everything is deterministic in ``seed``: the same seed, scale and config give
byte-identical files.

Command line::

    python -m envtrace.sample --out data/sample --seed 0 [--scale 1] [--preset shandong]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint, Point, Polygon

from envtrace import _sample_text as tx
from envtrace._atomic import atomic_dir
from envtrace.errors import InputError

__all__ = [
    "BEHAVIOURS",
    "WIND_CLIMATES",
    "PRESETS",
    "WorldConfig",
    "World",
    "generate",
    "main",
]

BEHAVIOURS: tuple[str, ...] = (
    "covert_night",  # 偷排: 22:00-04:00 on irregular nights, stops at enforcement
    "malfunction",  # treatment failure, continuous 2-4 weeks; rectified, then recurs
    "work_hours",  # 08-18 on weekdays over months
    "night_construction",  # E47 site, 22:00-02:00, noise
    "windy_dust",  # B10/C30 stockpiles when wind > 6 m/s
    "seasonal_livestock",  # A03 farm, June-September, all day (worst at night)
    "restaurant_fumes",  # H62 kitchen exhaust at mealtimes, beside homes, among other restaurants
    "transfer_station",  # N7820 refuse transfer: dawn and evening loading, worse in summer
)
_URBAN_BEHAVIOURS: tuple[str, ...] = ("restaurant_fumes", "transfer_station")
WIND_CLIMATES: tuple[str, ...] = ("monsoon", "valley", "uniform", "strong_prevailing")
KIND_OF_BEHAVIOUR = {
    "covert_night": "odour",
    "malfunction": "odour",
    "work_hours": "odour",
    "night_construction": "noise",
    "windy_dust": "dust",
    "seasonal_livestock": "odour",
    "restaurant_fumes": "odour",
    "transfer_station": "odour",
}
INDUSTRIES_OF_BEHAVIOUR = {
    "covert_night": ["C2614", "C2619", "C27", "C2641"],
    "malfunction": ["C29", "C2913", "D4620", "C2625", "C22"],
    "work_hours": ["C23", "C13", "C1351", "C22", "C2641"],
    "night_construction": ["E47"],
    "windy_dust": ["B10", "C30", "C3021"],
    "seasonal_livestock": ["A03"],
    "restaurant_fumes": ["H62"],
    "transfer_station": ["N7820"],
}
DECOY_INDUSTRIES = {
    "C2614": ["C2619", "C2641", "C27", "C29"],
    "C2619": ["C2614", "C2641", "C27"],
    "C27": ["C2614", "C2625", "C27"],
    "C2641": ["C2614", "C23", "C2641"],
    "C29": ["C2913", "C29"],
    "C2913": ["C29", "C2913"],
    "D4620": ["N7723", "C2625", "D4620"],
    "C2625": ["A03", "D4620", "C2625"],
    "C22": ["C23", "C22"],
    "C23": ["C2641", "C23"],
    "C13": ["C1351", "H62", "C13"],
    "C1351": ["C13", "A03"],
    "A03": ["A03", "C2625"],
    "E47": ["E47", "C33"],
    "B10": ["C30", "C3021", "B10"],
    "C30": ["B10", "C3021", "C30"],
    "C3021": ["C30", "B10"],
    "H62": ["H62"],
    "N7820": ["N7820", "D4620", "H62"],
}
CHANNELS = ("12369", "web", "wechat", "12345")
_TZ = "Asia/Shanghai"
_M_PER_DEG_LAT = 110_940.0
_EXPORT_DAY = pd.Timestamp("2026-11-05")


# --- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorldConfig:
    """Knobs of a synthetic world; every field has a realistic Shandong default.

    Parameters
    ----------
    name : str
        Preset name, recorded in ``truth/world.json``.
    centre_lon, centre_lat : float
        County seat, degrees WGS84 (jittered by ``centre_jitter_deg`` per seed).
    county_radius_m : float
        Mean radius of the county outline, metres.
    n_townships, n_streets : int
        Number of township polygons, of which ``n_streets`` are urban streets (街道).
    n_parks : int
        Industrial parks (2-3): a chemical park far out, a development zone, a food park.
    n_enterprises : int
        Enterprises in ``enterprises.csv`` (sources and decoys included).
    behaviours : tuple of str
        One true source per entry, from :data:`BEHAVIOURS`.
    wind_climate : str
        ``monsoon`` (Shandong: winter N/NW, summer S/SE), ``valley`` (bimodal, channelled,
        day/night reversal), ``uniform`` (weak prevailing), ``strong_prevailing``.
    prevailing_deg : float
        Direction (FROM, degrees) of the strong prevailing wind.
    complaints_per_year : int
        Target number of complaints at scale 1 (duplicates included).
    background_share : float
        Share of complaints with no industrial source.
    lag : str
        Reporting lag: ``short`` (median ~20 min) or ``long`` (median ~2 h, heavier tail).
    decoys_per_source : float
        Innocent look-alike enterprises placed near each source's complainants.
    channel_shares : tuple of 4 floats
        Shares of 12369 (WGS84), web (GCJ-02), WeChat (BD-09), 12345 (WGS84, delayed).
    category_fill : float
        Share of rows whose ``category`` is filled in the input.
    bad_row_share : float
        Share of deliberately broken rows (ingestion rejects).
    duplicate_share : float
        Share of reports followed by a second report of the same happening on another channel.
    time_word_share : float
        Share of texts that say when the nuisance was noticed (晚上, 凌晨, 白天…).
    time_word_error : float
        Share of those whose time word is wrong (a habit, a guess: drawn for a random hour).
    smell_word_share : float
        Share of source-caused odour complaints whose words for the smell are those of the
        source's kind (臭鸡蛋味 for a sewage works); the others name a kind of smell drawn
        at random, as background complaints do.
    name_share : float
        Share of complaint texts that name an enterprise ("怀疑是凯瑞化工", "鲁泰那个厂").
    name_source_share : float
        Share of those, among source-caused complaints, that name the true source; the
        others (and every background complaint that names one) name a plant the
        complainant knows: one that can cause the category, drawn with weight
        ``1 / (1 + (d / 700 m)²)`` by distance from home among the 30 nearest — often a
        decoy next to the homes, so names are evidence only as far as they beat proximity.
    name_notorious_share : float
        Share of those other names that go to one notorious innocent firm instead (the one
        everybody blames: an odour-capable firm that is no source, drawn per world); 0 by
        default, and then nothing is drawn for it.
    """

    name: str = "shandong"
    centre_lon: float = 117.0
    centre_lat: float = 35.6
    centre_jitter_deg: float = 0.04
    county_radius_m: float = 17_000.0
    n_townships: int = 9
    n_streets: int = 2
    n_parks: int = 2
    n_enterprises: int = 80
    behaviours: tuple[str, ...] = (
        "covert_night",
        "malfunction",
        "work_hours",
        "night_construction",
        "windy_dust",
    )
    wind_climate: str = "monsoon"
    prevailing_deg: float = 300.0
    complaints_per_year: int = 1800
    background_share: float = 0.3
    lag: str = "short"
    decoys_per_source: float = 2.0
    channel_shares: tuple[float, float, float, float] = (0.40, 0.22, 0.18, 0.20)
    category_fill: float = 0.6
    bad_row_share: float = 0.015
    duplicate_share: float = 0.08
    time_word_share: float = 1.0
    time_word_error: float = 0.0
    smell_word_share: float = 1.0
    name_share: float = 0.15
    name_source_share: float = 0.5
    name_notorious_share: float = 0.0

    def __post_init__(self) -> None:
        if self.wind_climate not in WIND_CLIMATES:
            raise InputError(f"unknown wind climate {self.wind_climate!r}")
        bad = [b for b in self.behaviours if b not in BEHAVIOURS]
        if bad:
            raise InputError(f"unknown source behaviour {bad[0]!r}")
        if self.lag not in ("short", "long"):
            raise InputError(f"lag must be 'short' or 'long', not {self.lag!r}")
        if not 2 <= self.n_parks <= 3:
            raise InputError("n_parks must be 2 or 3")
        if not 0 <= self.background_share < 1:
            raise InputError("background_share must be in [0, 1)")
        if not (0 <= self.time_word_share <= 1 and 0 <= self.time_word_error <= 1):
            raise InputError("time_word_share and time_word_error must be in [0, 1]")
        if not 0 <= self.smell_word_share <= 1:
            raise InputError("smell_word_share must be in [0, 1]")
        if not (0 <= self.name_share <= 1 and 0 <= self.name_source_share <= 1
                and 0 <= self.name_notorious_share <= 1):
            raise InputError("name_share, name_source_share and name_notorious_share must be in [0, 1]")

    @classmethod
    def preset(cls, name: str, *, seed: int = 0) -> WorldConfig:
        """Return a named preset (see :data:`PRESETS`); ``random`` draws every knob from ``seed``."""
        if name == "random":
            return cls.randomised(seed)
        if name not in PRESETS:
            raise InputError(
                f"unknown preset {name!r}; choose from {', '.join(sorted(PRESETS) + ['random'])}"
            )
        return dataclasses.replace(cls(), name=name, **PRESETS[name])

    @classmethod
    def randomised(cls, seed: int) -> WorldConfig:
        """Draw geometry, wind climate, sources, lags, decoys and channel mix from ``seed``."""
        rng = np.random.default_rng([seed, 7321])
        others = [b for b in BEHAVIOURS if b not in ("covert_night", "malfunction", *_URBAN_BEHAVIOURS)]
        k = int(rng.integers(2, 5))
        extra = tuple(str(b) for b in rng.choice(others, size=k, replace=False))
        web, wechat = rng.uniform(0.05, 0.35, size=2)
        shares = np.array([0.35, web, wechat, 0.2])
        return cls(
            name="random",
            county_radius_m=float(rng.uniform(14_000, 21_000)),
            n_townships=int(rng.integers(8, 11)),
            n_streets=int(rng.integers(2, 4)),
            n_parks=int(rng.integers(2, 4)),
            behaviours=("covert_night", "malfunction", *extra),
            wind_climate=str(rng.choice(WIND_CLIMATES)),
            prevailing_deg=float(rng.uniform(0, 360)),
            complaints_per_year=int(rng.integers(1200, 2600)),
            background_share=float(rng.uniform(0.22, 0.38)),
            lag=str(rng.choice(["short", "long"])),
            decoys_per_source=float(rng.uniform(1.0, 3.5)),
            channel_shares=tuple(float(s) for s in shares / shares.sum()),  # type: ignore[arg-type]
            category_fill=float(rng.uniform(0.4, 0.8)),
            # drawn last, so that the knobs above are those of earlier versions
            time_word_share=float(rng.uniform(0.3, 1.0)),
            time_word_error=float(rng.uniform(0.0, 0.25)),
            smell_word_share=float(rng.uniform(0.3, 1.0)),
            name_share=float(rng.uniform(0.0, 0.3)),
            name_source_share=float(rng.uniform(0.1, 0.8)),
        )


PRESETS: dict[str, dict[str, Any]] = {
    "shandong": {},
    "valley": {"wind_climate": "valley"},
    "uniform": {"wind_climate": "uniform"},
    "strong_prevailing": {"wind_climate": "strong_prevailing"},
    "long_lag": {"lag": "long"},
    "dense_decoys": {"decoys_per_source": 4.0},
    "mobile": {"channel_shares": (0.2, 0.35, 0.35, 0.1)},
    "livestock": {
        "behaviours": (
            "covert_night",
            "malfunction",
            "work_hours",
            "windy_dust",
            "seasonal_livestock",
        ),
    },
    "quiet": {"complaints_per_year": 1000, "background_share": 0.35},
    # town-centre nuisances, with restaurants and waste transfer stations the cause of a
    # third of odour complaints in China (issue #4): a restaurant's kitchen exhaust beside
    # an estate among other restaurants, and a refuse transfer station. Not drawn by
    # ``random``, whose worlds stay those of earlier versions.
    "urban": {
        "behaviours": (
            "covert_night",
            "malfunction",
            "work_hours",
            "restaurant_fumes",
            "transfer_station",
        ),
    },
}


# --- the world -------------------------------------------------------------------------


@dataclass
class World:
    """A generated world: the dataset folder's tables and the ground truth.

    Attributes hold the files exactly as written (all ``str`` cells for the inputs).
    """

    seed: int
    scale: float
    config: WorldConfig
    complaints: pd.DataFrame
    enterprises: pd.DataFrame
    wind: pd.DataFrame
    alarms: pd.DataFrame
    actions: pd.DataFrame
    areas: dict[str, Any]
    toml: str
    truth_complaints: pd.DataFrame
    truth_sources: pd.DataFrame
    truth_residents: pd.DataFrame
    truth_decoys: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir: str | Path) -> Path:
        """Write the dataset folder (and ``truth/``) to ``out_dir``, replacing it whole.

        Returns the directory. Files are UTF-8 CSV with ``\\n`` line ends; the output is
        byte-identical for the same seed, scale and config.
        """
        with atomic_dir(out_dir) as tmp:
            tmp.chmod(0o755)  # mkdtemp makes it private; a dataset folder is not
            for name, frame in (
                ("complaints.csv", self.complaints),
                ("enterprises.csv", self.enterprises),
                ("wind.csv", self.wind),
                ("alarms.csv", self.alarms),
                ("actions.csv", self.actions),
            ):
                frame.to_csv(tmp / name, index=False, lineterminator="\n")
            (tmp / "areas.geojson").write_text(
                json.dumps(self.areas, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            (tmp / "envtrace.toml").write_text(self.toml, encoding="utf-8")
            truth = tmp / "truth"
            truth.mkdir()
            for name, frame in (
                ("complaints.csv", self.truth_complaints),
                ("sources.csv", self.truth_sources),
                ("residents.csv", self.truth_residents),
                ("decoys.csv", self.truth_decoys),
            ):
                frame.to_csv(truth / name, index=False, lineterminator="\n")
            (truth / "world.json").write_text(
                json.dumps(self.info, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                encoding="utf-8",
            )
            (truth / "README.md").write_text(_TRUTH_README, encoding="utf-8")
        return Path(out_dir)


_TRUTH_README = """# Ground truth of the generated world (never read by analysis code)

- `complaints.csv`: one row per row of `../complaints.csv`, same order (`source_row` counts
  data rows from 1). `cause`: `source` (first report of a household about that source),
  `repeat` (the same household again about the same source, later), `duplicate` (a second
  report of the same happening, usually on another channel, hours later), `background`
  (no industrial source). `source_enterprise_id` is empty for background rows and for
  duplicates of them. `exposure_at` is the local hour the nuisance was noticed, `bad` the
  reject reason the row was built to trigger (empty for good rows), `true_lon/true_lat`
  the WGS84 home of the complainant.
- `sources.csv`: the true polluters, their behaviour, activity period and emission set-up.
- `residents.csv`: neighbourhoods (小区/村) with household counts (population weights).
- `decoys.csv`: innocent enterprises of matching industries placed closer to a source's
  most affected neighbourhood than the source itself (for a restaurant: the other
  restaurants of its street, 30-160 m from it, nearer or farther).
- `world.json`: seed, scale, configuration and counts.
"""


# --- small helpers ---------------------------------------------------------------------


class _Frame:
    """Local tangent-plane metres (x east, y north) around the county seat."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.mx = _M_PER_DEG_LAT * math.cos(math.radians(lat0)) * 1.0034

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return (
            self.lon0 + np.asarray(x, dtype=float) / self.mx,
            self.lat0 + np.asarray(y, dtype=float) / _M_PER_DEG_LAT,
        )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _polar(rng: np.random.Generator, r: Any, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    th = rng.uniform(0, 2 * np.pi, size=n)
    return np.asarray(r) * np.sin(th), np.asarray(r) * np.cos(th)


def _fmt_minutes(t0: pd.Timestamp, minutes: np.ndarray, style: np.ndarray | int = 0) -> np.ndarray:
    """Format minutes after ``t0`` as naive local times: style 0 ISO, 1 Chinese, 2 slashes.

    Formats each distinct minute once, so a million rows cost what a year of minutes costs.
    """
    m = np.asarray(minutes, dtype=np.int64)
    st = np.broadcast_to(np.asarray(style), m.shape)
    uniq, inv = np.unique(m, return_inverse=True)
    ti = t0 + pd.to_timedelta(uniq, unit="min")
    iso = np.asarray(ti.strftime("%Y-%m-%d %H:%M"), dtype=object)
    out = iso[inv]
    used = np.zeros(len(uniq), dtype=bool)
    for code in (1, 2):
        rows = st == code
        if not rows.any():
            continue
        used[:] = False
        used[inv[rows]] = True
        alt = np.empty(len(uniq), dtype=object)
        if code == 1:
            y, mo, d = ti.year.to_numpy(), ti.month.to_numpy(), ti.day.to_numpy()
            h, mi = ti.hour.to_numpy(), ti.minute.to_numpy()
            for i in np.flatnonzero(used):
                alt[i] = f"{y[i]}年{mo[i]}月{d[i]}日 {h[i]:02d}:{mi[i]:02d}"
        else:
            for i in np.flatnonzero(used):
                alt[i] = iso[i].replace("-", "/")
        out[rows] = alt[inv[rows]]
    return out


def _fmt_float(values: np.ndarray, fmt: str = ".6f") -> np.ndarray:
    return np.array(
        [format(v, fmt) for v in np.asarray(values, dtype=float).tolist()], dtype=object
    )


# --- geometry --------------------------------------------------------------------------


def _geometry(rng: np.random.Generator, cfg: WorldConfig) -> dict[str, Any]:
    R = cfg.county_radius_m * rng.uniform(0.92, 1.08)
    th = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    r = np.ones_like(th)
    for k in range(2, 6):
        r += rng.normal(0, 0.07 / k * 2) * np.cos(k * th + rng.uniform(0, 2 * np.pi))
    # The county seat sits off-centre in the county, as it usually does.
    off = _polar(rng, R * rng.uniform(0.05, 0.25))
    outline = Polygon(np.c_[off[0] + R * r * np.sin(th), off[1] + R * r * np.cos(th)]).buffer(0)

    streets = list(tx.STREET_NAMES[:2]) + list(rng.permutation(tx.STREET_NAMES[2:]))
    names: list[str] = [streets[0]]
    seats = [(rng.normal(0, 200), rng.normal(0, 200))]
    b0 = rng.uniform(-25, 25)
    for i in range(1, cfg.n_streets):
        bearing = math.radians(b0 + (0 if i == 1 else rng.uniform(110, 250)))
        d = rng.uniform(1800, 2600)
        seats.append((d * math.sin(bearing), d * math.cos(bearing)))
        names.append(streets[i])
    n_rural = cfg.n_townships - cfg.n_streets
    towns = list(rng.permutation(tx.TOWNSHIP_NAMES))
    base = rng.uniform(0, 360)
    for i in range(n_rural):
        bearing = math.radians(base + 360 * i / n_rural + rng.uniform(-12, 12))
        # Distance to the outline along that bearing.
        ray = shapely.LineString([(0, 0), (3 * R * math.sin(bearing), 3 * R * math.cos(bearing))])
        hit = ray.intersection(outline.exterior)
        edge = (
            min(Point(0, 0).distance(g) for g in getattr(hit, "geoms", [hit]))
            if not hit.is_empty
            else R
        )
        d = edge * rng.uniform(0.5, 0.7)
        seats.append((d * math.sin(bearing), d * math.cos(bearing)))
        names.append(towns[i])
    seats_a = np.array(seats)
    cells = shapely.voronoi_polygons(MultiPoint(seats_a), extend_to=outline.buffer(R))
    polys: list[Polygon] = []
    for sx, sy in seats_a:
        cell = next(c for c in cells.geoms if c.contains(Point(sx, sy)))
        polys.append(cell.intersection(outline))
    return {"outline": outline, "seats": seats_a, "names": names, "polys": polys, "R": R}


def _area_of(x: np.ndarray, y: np.ndarray, geo: dict[str, Any]) -> np.ndarray:
    out = np.full(len(x), "", dtype=object)
    for name, poly in zip(geo["names"], geo["polys"], strict=True):
        out[shapely.contains_xy(poly, x, y)] = name
    return out


def _points_in(rng: np.random.Generator, poly: Polygon, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    pts: list[np.ndarray] = []
    got = 0
    while got < n:
        cand = np.c_[rng.uniform(minx, maxx, 4 * n + 8), rng.uniform(miny, maxy, 4 * n + 8)]
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        pts.append(cand)
        got += len(cand)
    return np.concatenate(pts)[:n]


# --- residents -------------------------------------------------------------------------


def _residents(rng: np.random.Generator, geo: dict[str, Any]) -> pd.DataFrame:
    rows: list[tuple[str, str, float, float, int]] = []
    outline = geo["outline"]
    n_estates = int(rng.integers(30, 44))
    names = list(rng.permutation(tx.ESTATE_NAMES))
    centres = geo["seats"][: max(1, sum(n.endswith("街道") for n in geo["names"]))]
    i = 0
    while i < n_estates:
        cx, cy = centres[int(rng.integers(0, len(centres)))]
        x, y = cx + rng.normal(0, 1100), cy + rng.normal(0, 1100)
        if not outline.contains(Point(x, y)):
            continue
        hh = int(np.clip(rng.lognormal(math.log(900), 0.6), 200, 5000))
        rows.append((names[i % len(names)] + ("" if i < len(names) else "二期"), "小区", x, y, hh))
        i += 1
    used: set[str] = set()
    for name, (sx, sy), poly in zip(geo["names"], geo["seats"], geo["polys"], strict=True):
        if name.endswith("街道"):
            n_vil = int(rng.integers(3, 8))
        else:
            rows.append(
                (
                    name[:-1] + "社区",
                    "社区",
                    sx + rng.normal(0, 150),
                    sy + rng.normal(0, 150),
                    int(rng.integers(1200, 3200)),
                )
            )
            n_vil = int(rng.integers(12, 24))
        for x, y in _points_in(rng, poly.buffer(-300), n_vil):
            if math.hypot(x, y) < 2500:
                continue
            for _ in range(20):
                vname = (
                    tx.VILLAGE_PREFIXES[int(rng.integers(0, len(tx.VILLAGE_PREFIXES)))]
                    + tx.SURNAMES[int(rng.integers(0, 30))]
                    + tx.VILLAGE_SUFFIXES[int(rng.integers(0, len(tx.VILLAGE_SUFFIXES)))]
                )
                if vname not in used:
                    break
            used.add(vname)
            rows.append(
                (vname, "村", x, y, int(np.clip(rng.lognormal(math.log(260), 0.5), 60, 1200)))
            )
    df = pd.DataFrame(rows, columns=["name", "kind", "x", "y", "households"])
    df.insert(0, "resident_id", [f"R{i:03d}" for i in range(1, len(df) + 1)])
    df["area"] = _area_of(df["x"].to_numpy(), df["y"].to_numpy(), geo)
    return df


# --- wind ------------------------------------------------------------------------------


def _wind_truth(
    rng: np.random.Generator, cfg: WorldConfig, times: pd.DatetimeIndex
) -> pd.DataFrame:
    n = len(times)
    month = times.month.to_numpy()
    hour = times.hour.to_numpy()
    season = np.select(
        [np.isin(month, [11, 12, 1, 2]), np.isin(month, [3, 4, 5]), np.isin(month, [6, 7, 8])],
        [0, 1, 2],
        3,
    )
    # Synoptic regimes lasting one to five days.
    starts = [0]
    while starts[-1] < n:
        starts.append(starts[-1] + int(rng.gamma(2.0, 24.0)) + 6)
    reg = np.searchsorted(np.array(starts), np.arange(n), side="right") - 1
    n_reg = reg.max() + 1
    s_at = season[np.minimum(np.array(starts[:n_reg]), n - 1)]
    if cfg.wind_climate == "monsoon":
        comps = np.array([335.0, 70.0, 160.0, 240.0])
        sds = np.array([22.0, 30.0, 28.0, 30.0])
        w = np.array(
            [
                [0.55, 0.15, 0.10, 0.20],
                [0.32, 0.18, 0.32, 0.18],
                [0.08, 0.20, 0.62, 0.10],
                [0.30, 0.30, 0.25, 0.15],
            ]
        )
        c = np.array([rng.choice(4, p=w[s]) for s in s_at])
        mean_dir = comps[c] + rng.normal(0, 1, n_reg) * sds[c]
    elif cfg.wind_climate == "valley":
        axis = cfg.prevailing_deg % 180
        c = rng.integers(0, 2, n_reg)
        mean_dir = axis + 180 * c + rng.normal(0, 12, n_reg)
    elif cfg.wind_climate == "uniform":
        mean_dir = rng.uniform(0, 360, n_reg)
    else:
        c = rng.random(n_reg) < 0.78
        mean_dir = np.where(
            c, cfg.prevailing_deg + rng.normal(0, 18, n_reg), rng.uniform(0, 360, n_reg)
        )
    spring = (s_at == 1).astype(float)
    reg_speed = rng.lognormal(np.log(2.1) + 0.2 * spring, 0.5, n_reg)
    gale = rng.random(n_reg) < 0.03 + 0.06 * spring
    reg_speed = np.where(gale, rng.uniform(5.0, 8.0, n_reg), reg_speed)
    # AR(1) deviations within the regime, diurnal speed cycle and a small veer.
    dev = np.zeros(n)
    noise = rng.normal(0, 13.0, n)
    sp_noise = np.zeros(n)
    sn = rng.normal(0, 0.16, n)
    for i in range(1, n):
        dev[i] = 0.9 * dev[i - 1] + noise[i]
        sp_noise[i] = 0.8 * sp_noise[i - 1] + sn[i]
    diurnal = 1.0 + 0.5 * np.sin(2 * np.pi * (hour - 9) / 24.0)
    direction = mean_dir[reg] + dev + 8 * np.sin(2 * np.pi * hour / 24)
    speed = reg_speed[reg] * diurnal * np.exp(sp_noise)
    if cfg.wind_climate == "valley":
        # Thermal valley wind: up-valley by day, down-valley at night when synoptic wind is weak.
        weak = reg_speed[reg] < 3.5
        up = (hour >= 10) & (hour < 19)
        axis = cfg.prevailing_deg % 180
        direction = np.where(weak, np.where(up, axis + 180, axis) + dev * 0.5, direction)
    direction = np.mod(direction, 360)
    calm = speed < 0.75
    # Cloud cover (0-1), AR(1) daily, for stability.
    days = n // 24 + 1
    cloud_d = np.zeros(days)
    cn = rng.normal(0, 0.25, days)
    for i in range(1, days):
        cloud_d[i] = 0.6 * cloud_d[i - 1] + cn[i]
    cloud = np.clip(0.45 + cloud_d[np.arange(n) // 24], 0, 1)
    stab = _stability(times, speed, cloud, cfg.centre_lat)
    return pd.DataFrame(
        {"dir": direction, "speed": speed, "calm": calm, "stab": stab, "cloud": cloud}
    )


def _stability(times: pd.DatetimeIndex, u: np.ndarray, cloud: np.ndarray, lat: float) -> np.ndarray:
    """Pasquill class 0-5 (A-F) from solar elevation, cloud and wind speed (Turner's table)."""
    doy = times.day_of_year.to_numpy()
    hr = times.hour.to_numpy() + 0.5 - 0.2  # solar time at 117 E is ~12 min behind Beijing time
    dec = np.radians(23.45) * np.sin(2 * np.pi * (284 + doy) / 365)
    ha = np.radians((hr - 12) * 15)
    phi = math.radians(lat)
    elev = np.degrees(np.arcsin(np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(ha)))
    ubin = np.digitize(u, [2, 3, 5, 6])
    strong = np.array([0, 0, 1, 2, 2])
    moderate = np.array([1, 1, 2, 2, 3])
    slight = np.array([1, 2, 2, 3, 3])
    night_cloudy = np.array([4, 4, 3, 3, 3])
    night_clear = np.array([5, 5, 4, 3, 3])
    ins = np.where(elev > 55, 2, np.where(elev > 32, 1, np.where(elev > 12, 0, -1)))
    ins = np.where((cloud > 0.6) & (ins >= 0), ins - 1, ins)
    day = elev > 0
    out = np.where(ins >= 2, strong[ubin], np.where(ins == 1, moderate[ubin], slight[ubin]))
    night = np.where(cloud >= 0.5, night_cloudy[ubin], night_clear[ubin])
    out = np.where(day, out, night)
    out = np.where(day & (elev < 12) & (ins < 0), 3, out)
    return out.astype(int)


_DIR16 = [
    "北风",
    "北东北风",
    "东北风",
    "东东北风",
    "东风",
    "东东南风",
    "东南风",
    "南东南风",
    "南风",
    "南西南风",
    "西南风",
    "西西南风",
    "西风",
    "西西北风",
    "西北风",
    "北西北风",
]
_BEAUFORT = [0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2]


def _wind_file(
    rng: np.random.Generator,
    times: pd.DatetimeIndex,
    truth: pd.DataFrame,
    stations: list[tuple[str, float, float]],
) -> pd.DataFrame:
    n = len(times)
    tstr = pd.Series(times.strftime("%Y-%m-%d %H:%M")).to_numpy(dtype=object)
    frames = []
    for k, (sid, lon, lat) in enumerate(stations):
        d = np.mod(truth["dir"].to_numpy() + rng.normal(0, 6, n) + (4.0 if k else 0.0), 360)
        u = np.maximum(
            truth["speed"].to_numpy() * (1 + rng.normal(0, 0.08, n)) * (0.9 if k else 1.0), 0
        )
        calm = truth["calm"].to_numpy() | (u < 0.3)
        dir_s = np.char.mod("%d", np.round(d).astype(int) % 360).astype(object)
        spd_s = np.char.mod("%.1f", u).astype(object)
        if k == 1:
            # The park station's older logger writes 16-point names and Beaufort levels.
            zh = rng.random(n) < 0.35
            sector = (np.round(d / 22.5).astype(int)) % 16
            dir_s[zh] = np.asarray(_DIR16, dtype=object)[sector[zh]]
            lvl = np.digitize(u, _BEAUFORT)
            spd_s[zh] = np.char.mod("%d级", lvl[zh]).astype(object)
            dir_s[calm] = np.where(zh[calm], "静风", "")
            spd_s[calm & zh] = "0级"
        else:
            dir_s[calm] = ""
        spd_s[calm & ~(spd_s == "0级")] = np.char.mod(
            "%.1f", np.minimum(u[calm & ~(spd_s == "0级")], 0.4)
        ).astype(object)
        keep = np.ones(n, dtype=bool)
        for _ in range(3 if k == 0 else 2):
            s = int(rng.integers(0, n - 40))
            keep[s : s + int(rng.integers(2, 20))] = False
        if k == 1:
            s = int(rng.integers(0, n - 300))
            keep[s : s + int(rng.integers(72, 240))] = False
        frames.append(
            pd.DataFrame(
                {
                    "time": tstr[keep],
                    "wind_dir_deg": dir_s[keep],
                    "wind_speed_ms": spd_s[keep],
                    "station_id": sid,
                    "lon": f"{lon:.5f}",
                    "lat": f"{lat:.5f}",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# --- dispersion (the world's own physics) ---------------------------------------------

# Martin (1976) fits to the Pasquill-Gifford curves, x in km, sigma in metres.
_SY_A = np.array([213.0, 156.0, 104.0, 68.0, 50.5, 34.0])
_SZ_NEAR = np.array(
    [
        [440.8, 1.941, 9.27],
        [106.6, 1.149, 3.3],
        [61.0, 0.911, 0.0],
        [33.2, 0.725, -1.7],
        [22.8, 0.678, -1.3],
        [14.35, 0.740, -0.35],
    ]
)
_SZ_FAR = np.array(
    [
        [459.7, 2.094, -9.6],
        [108.2, 1.098, 2.0],
        [61.0, 0.911, 0.0],
        [44.5, 0.516, -13.0],
        [55.4, 0.305, -34.0],
        [62.6, 0.180, -48.6],
    ]
)
_PROFILE_P = np.array([0.07, 0.07, 0.10, 0.15, 0.35, 0.55])


def _sigmas(x_m: np.ndarray, stab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xk = np.maximum(x_m, 1.0) / 1000.0
    sy = _SY_A[stab] * xk**0.894
    tab = np.where((xk < 1.0)[..., None], _SZ_NEAR[stab], _SZ_FAR[stab])
    sz = tab[..., 0] * xk ** tab[..., 1] + tab[..., 2]
    return sy, np.clip(sz, 1.0, 5000.0)


def _plume(
    sx: float,
    sy_: float,
    rx: np.ndarray,
    ry: np.ndarray,
    *,
    wind_from: np.ndarray,
    u10: np.ndarray,
    stab: np.ndarray,
    q: np.ndarray,
    stack_m: float,
    buoyancy: float,
) -> np.ndarray:
    """Ground-level concentration (odour units) at receptors; shape (hours, receptors)."""
    to = np.radians(wind_from + 180.0)[:, None]
    dx, dy = (rx - sx)[None, :], (ry - sy_)[None, :]
    xd = dx * np.sin(to) + dy * np.cos(to)
    yc = dx * np.cos(to) - dy * np.sin(to)
    st = np.broadcast_to(stab[:, None], xd.shape)
    uh = np.maximum(u10 * (max(stack_m, 10.0) / 10.0) ** _PROFILE_P[stab], 0.6)[:, None]
    sig_y, sig_z = _sigmas(xd, st)
    # Briggs buoyant rise, gradual, capped by the final rise (stable or neutral form).
    rise = 1.6 * buoyancy ** (1 / 3) * np.maximum(xd, 1.0) ** (2 / 3) / uh
    s_par = np.where(stab[:, None] >= 4, np.where(stab[:, None] == 5, 0.0009, 0.0005), np.nan)
    x_star = 14 * buoyancy**0.625 if buoyancy < 55 else 34 * buoyancy**0.4
    final_unstable = 1.6 * buoyancy ** (1 / 3) * (3.5 * x_star) ** (2 / 3) / uh
    final_stable = 2.6 * (buoyancy / (uh * np.nan_to_num(s_par, nan=1.0))) ** (1 / 3)
    final = np.where(np.isnan(s_par), final_unstable, final_stable)
    h = stack_m + np.minimum(rise, final)
    zr = 1.5
    c = (
        q[:, None]
        / (2 * np.pi * uh * sig_y * sig_z)
        * np.exp(-0.5 * (yc / sig_y) ** 2)
        * (np.exp(-0.5 * ((zr - h) / sig_z) ** 2) + np.exp(-0.5 * ((zr + h) / sig_z) ** 2))
    )
    return np.where(xd > 20.0, c, 0.0)


# --- sources and their schedules -------------------------------------------------------


def _runs(active: np.ndarray, merge_gap: int = 6) -> list[tuple[int, int]]:
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > merge_gap)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]] + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _schedule(
    rng: np.random.Generator, behaviour: str, times: pd.DatetimeIndex, wind: pd.DataFrame
) -> tuple[np.ndarray, dict[str, Any]]:
    """Hourly emission multiplier (0 = off) and facts about the schedule for actions/truth."""
    n = len(times)
    hour = times.hour.to_numpy()
    day = np.arange(n) // 24
    wd = times.day_of_week.to_numpy()
    month = times.month.to_numpy()
    act = np.zeros(n)
    facts: dict[str, Any] = {}
    if behaviour == "covert_night":
        d0 = int(rng.integers(20, 90))
        d_end = d0 + int(rng.integers(130, 200))  # the night inspection that caught it
        on, nights = False, []
        for dd in range(d0, min(d_end, 364)):
            on = rng.random() < (0.55 if on else 0.22)
            if on:
                nights.append(dd)
        for dd in nights:
            s = dd * 24 + 22 + int(rng.integers(0, 3))
            e = dd * 24 + 24 + int(rng.integers(3, 6))
            act[s : min(e, n)] = rng.uniform(0.7, 1.3)
        facts = {
            "start_day": d0,
            "end_day": d_end,
            "nights": len(nights),
            "schedule": "22:00-05:00 on irregular nights (偷排)",
        }
    elif behaviour == "malfunction":
        d1 = int(rng.integers(30, 110))
        len1 = int(rng.integers(14, 29))
        d_fix1 = d1 + len1
        d_ver1 = d_fix1 + int(rng.integers(7, 15))
        d2 = d_ver1 + int(rng.integers(55, 110))
        len2 = int(rng.integers(10, 22))
        d2 = min(d2, 364 - len2 - 12)
        d_fix2 = d2 + len2
        for a, b in ((d1, d_fix1), (d2, d_fix2)):
            act[a * 24 : b * 24] = 1.0 + 0.25 * np.sin(2 * np.pi * hour[a * 24 : b * 24] / 24)
        facts = {
            "start_day": d1,
            "end_day": d_fix2,
            "fix1": d_fix1,
            "verify1": d_ver1,
            "recur_day": d2,
            "fix2": d_fix2,
            "verify2": d_fix2 + int(rng.integers(6, 12)),
            "schedule": f"continuous {len1} days, rectified; recurred {len2} days",
        }
    elif behaviour == "work_hours":
        d0 = int(rng.integers(60, 150))
        d_end = min(d0 + int(rng.integers(110, 190)), 350)
        m = (day >= d0) & (day < d_end) & (wd < 5) & (hour >= 8) & (hour < 18)
        act[m] = 1.0
        facts = {"start_day": d0, "end_day": d_end, "schedule": "08:00-18:00 on weekdays"}
    elif behaviour == "night_construction":
        d0 = int(rng.integers(150, 260))
        d_end = d0 + int(rng.integers(35, 63))
        nights = rng.random(n // 24 + 1) < 0.78
        m = (day >= d0) & (day < d_end) & nights[day] & ((hour >= 22) | (hour < 2))
        m &= ~((hour < 2) & (day == d0))
        act[m] = 1.0
        facts = {"start_day": d0, "end_day": d_end, "schedule": "22:00-02:00 on most nights"}
    elif behaviour == "windy_dust":
        u = wind["speed"].to_numpy()
        d_fix = int(rng.integers(200, 330))
        strength = np.where(day < d_fix, 1.0, 0.15)
        act = np.where(u > 6.0, np.maximum(u - 5.0, 0.0) ** 1.5 * strength, 0.0)
        facts = {
            "start_day": 0,
            "end_day": d_fix,
            "schedule": "wind speed > 6 m/s (stockpiles, blasting)",
        }
    elif behaviour == "restaurant_fumes":
        # lunch and dinner service, busier at weekends; until a fume purifier is fitted
        d0 = int(rng.integers(0, 120))
        d_end = min(d0 + int(rng.integers(150, 260)), 360)
        meal = ((hour >= 11) & (hour < 14)) | ((hour >= 17) & (hour < 21))
        m = (day >= d0) & (day < d_end) & meal
        act[m] = np.where(wd[m] >= 5, 1.3, 1.0)
        facts = {"start_day": d0, "end_day": d_end, "schedule": "11:00-14:00 and 17:00-21:00 daily"}
    elif behaviour == "transfer_station":
        # refuse arrives and is compacted at dawn and in the evening; warm months smell most
        d_end = int(rng.integers(230, 340))
        load = ((hour >= 5) & (hour < 9)) | ((hour >= 17) & (hour < 20))
        warm = np.isin(month, [5, 6, 7, 8, 9])
        m = (day < d_end) & load
        act[m] = np.where(warm[m], 1.3, 0.6)
        facts = {"start_day": 0, "end_day": d_end,
                 "schedule": "05:00-09:00 and 17:00-20:00 daily, worse May-September"}
    elif behaviour == "seasonal_livestock":
        m = np.isin(month, [6, 7, 8, 9])
        act[m] = 0.8 + 0.4 * ((hour[m] >= 19) | (hour[m] < 6))
        facts = {
            "start_day": int(np.flatnonzero(m)[0] // 24),
            "end_day": int(np.flatnonzero(m)[-1] // 24),
            "schedule": "June-September, all day, worse at night",
        }
    return act, facts


# --- generation ------------------------------------------------------------------------


def generate(
    seed: int = 0,
    *,
    scale: float = 1.0,
    config: WorldConfig | None = None,
    preset: str | None = None,
    n_enterprises: int | None = None,
) -> World:
    """Generate a synthetic county.

    Parameters
    ----------
    seed : int
        Everything random derives from it; same seed, scale and config → same files.
    scale : float
        Multiplies the complaint volume (and the pool of households that call);
        ``scale=500`` gives about a million complaints. Large scales draw texts from a
        pre-rendered pool.
    config : WorldConfig, optional
        Explicit configuration; wins over ``preset``.
    preset : str, optional
        Name in :data:`PRESETS` or ``random`` (all knobs drawn from ``seed``); default
        ``shandong``.
    n_enterprises : int, optional
        Override the number of enterprises (benchmarks use 10 000).

    Returns
    -------
    World
    """
    if scale <= 0:
        raise InputError("scale must be positive")
    cfg = config if config is not None else WorldConfig.preset(preset or "shandong", seed=seed)
    if n_enterprises is not None:
        cfg = dataclasses.replace(cfg, n_enterprises=int(n_enterprises))
    root = np.random.SeedSequence([int(seed), 20251101])
    r_geo, r_wind, r_src, r_ent, r_cmp, r_txt, r_act = (
        np.random.default_rng(s) for s in root.spawn(7)
    )
    r_when = np.random.default_rng(root.spawn(1)[0])  # an 8th stream: the 7 above unchanged
    r_smell = np.random.default_rng(root.spawn(1)[0])  # a 9th
    r_name = np.random.default_rng(root.spawn(1)[0])  # a 10th

    lon0 = cfg.centre_lon + r_geo.uniform(-1, 1) * cfg.centre_jitter_deg
    lat0 = cfg.centre_lat + r_geo.uniform(-1, 1) * cfg.centre_jitter_deg * 0.8
    frame = _Frame(lon0, lat0)
    geo = _geometry(r_geo, cfg)
    res = _residents(r_geo, geo)
    times = pd.date_range("2025-11-01 00:00", "2026-10-31 23:00", freq="h")
    wind = _wind_truth(r_wind, cfg, times)

    ents, parks = _enterprise_layout(r_ent, cfg, geo, res)
    sources, exposures = _place_sources(r_src, cfg, geo, res, wind, times, ents, parks)
    decoys = _place_decoys(r_ent, cfg, geo, res, sources, exposures, ents)
    ents = _finish_enterprises(r_ent, cfg, geo, frame, ents, sources, decoys)
    key2id = dict(zip(ents["key"], ents["enterprise_id"], strict=True))
    for i, s in enumerate(sources):
        s["enterprise_id"] = key2id[f"src{i}"]
        s["name"] = str(ents.loc[ents["key"] == f"src{i}", "name"].iloc[0])
    decoys = decoys.assign(
        enterprise_id=[key2id[f"dec{i}"] for i in range(len(decoys))],
        source_enterprise_id=[sources[int(k[3:])]["enterprise_id"] for k in decoys["source_of"]],
    )

    # Wind stations: the county met station in town, the park station in the first park.
    st_lon, st_lat = frame.to_lonlat([600.0, parks[0]["x"] + 300], [-400.0, parks[0]["y"] - 200])
    stations = [
        ("54827", float(st_lon[0]), float(st_lat[0])),
        ("park-aws", float(st_lon[1]), float(st_lat[1])),
    ]
    wind_csv = _wind_file(r_wind, times, wind, stations)

    cmp, hh = _complaints(r_cmp, cfg, scale, res, sources, exposures, times, geo)
    cmp_csv, truth_c = _render_complaints(r_txt, cfg, scale, cmp, hh, res, sources, frame, times,
                                          r_when=r_when, r_smell=r_smell, r_name=r_name, ents=ents)
    alarms = _alarms(r_act, times, ents, sources)
    actions, closures = _actions(r_act, times, sources, decoys, truth_c)
    for eid, day in closures.items():
        ents.loc[ents["enterprise_id"] == eid, ["status", "closed_on"]] = ["closed", day]
    truth_decoys = decoys[
        [
            "enterprise_id",
            "source_enterprise_id",
            "resident",
            "decoy_distance_m",
            "source_distance_m",
            "code",
        ]
    ].rename(columns={"resident": "resident_id", "code": "industry_code"})

    areas = _areas_geojson(geo, frame)
    toml = _toml(geo, r_act)
    truth_sources = _truth_sources(sources, ents, truth_c)
    truth_res = res.assign(
        lon=np.round(frame.to_lonlat(res["x"], res["y"])[0], 6),
        lat=np.round(frame.to_lonlat(res["x"], res["y"])[1], 6),
    )[["resident_id", "name", "kind", "lon", "lat", "households", "area"]]
    info = {
        "seed": int(seed),
        "scale": float(scale),
        "config": dataclasses.asdict(cfg),
        "centre": [round(lon0, 6), round(lat0, 6)],
        "counts": {
            "complaints": len(cmp_csv),
            "enterprises": len(ents),
            "wind_rows": len(wind_csv),
            "alarms": len(alarms),
            "actions": len(actions),
            "residents": len(res),
            "by_cause": {
                k: int(v) for k, v in truth_c["cause"].value_counts().sort_index().items()
            },
            "bad_rows": int((truth_c["bad"] != "").sum()),
            "calm_share": round(float(wind["calm"].mean()), 4),
        },
    }
    return World(
        seed=int(seed),
        scale=float(scale),
        config=cfg,
        complaints=cmp_csv,
        enterprises=ents[_ENT_COLUMNS].reset_index(drop=True),
        wind=wind_csv,
        alarms=alarms,
        actions=actions,
        areas=areas,
        toml=toml,
        truth_complaints=truth_c,
        truth_sources=truth_sources,
        truth_residents=truth_res,
        truth_decoys=truth_decoys,
        info=info,
    )


_ENT_COLUMNS = [
    "enterprise_id",
    "name",
    "industry",
    "lon",
    "lat",
    "crs",
    "permit_id",
    "status",
    "closed_on",
    "area",
    "online_monitor",
]

_PARK_KINDS = [
    ("化工产业园", ["C2614", "C2619", "C27", "C2641", "C29", "C2625", "C2614", "C27"]),
    ("经济开发区", ["C33", "C29", "C38", "C22", "C13", "C17", "C2913", "C27", "C33", "C3021"]),
    ("食品工业园", ["C13", "C1351", "C22", "C23", "C13", "C17"]),
]
_SCATTER = {
    "H62": 0.17,
    "A03": 0.15,
    "E47": 0.09,
    "C33": 0.08,
    "C13": 0.07,
    "C30": 0.06,
    "B10": 0.04,
    "N7723": 0.03,
    "D4620": 0.02,
    "C17": 0.05,
    "C38": 0.05,
    "C29": 0.05,
    "C22": 0.04,
    "C23": 0.05,
    "C2625": 0.02,
    "C3021": 0.03,
}
_URBAN = {"H62", "E47", "C23", "N7723"}
_RURAL = {"A03", "B10", "C30", "C2625", "C3021"}


def _enterprise_layout(
    rng: np.random.Generator, cfg: WorldConfig, geo: dict[str, Any], res: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    outline = geo["outline"]
    parks: list[dict[str, Any]] = []
    base = rng.uniform(0, 360)
    for k in range(cfg.n_parks):
        lo, hi = [(7000, 11000), (2800, 4800), (4000, 7000)][k]
        for _ in range(200):
            b = math.radians(base + k * rng.uniform(100, 160) + rng.uniform(-20, 20))
            d = rng.uniform(lo, hi)
            x, y = d * math.sin(b), d * math.cos(b)
            if outline.buffer(-1500).contains(Point(x, y)):
                near = np.hypot(res["x"] - x, res["y"] - y).min()
                if near > 700:
                    break
        parks.append(
            {
                "name": _PARK_KINDS[k][0],
                "x": x,
                "y": y,
                "r": rng.uniform(500, 900),
                "industries": _PARK_KINDS[k][1],
            }
        )
    n_total = cfg.n_enterprises
    n_park = max(cfg.n_parks * 4, int(round(n_total * 0.42)))
    rows: list[dict[str, Any]] = []
    per = np.diff(np.round(np.linspace(0, n_park, cfg.n_parks + 1))).astype(int)
    for p, m in zip(parks, per, strict=True):
        px, py = _polar(rng, p["r"] * np.sqrt(rng.random(m)), m)
        inds = rng.choice(p["industries"], size=m)
        for i in range(m):
            rows.append(
                {"x": p["x"] + px[i], "y": p["y"] + py[i], "code": str(inds[i]), "park": p["name"]}
            )
    n_sc = max(
        0, n_total - len(rows) - int(round(len(cfg.behaviours) * (1 + cfg.decoys_per_source)))
    )
    codes = list(_SCATTER)
    pr = np.array([_SCATTER[c] for c in codes])
    sc = rng.choice(codes, size=n_sc, p=pr / pr.sum())
    rx, ry = res["x"].to_numpy(), res["y"].to_numpy()
    urban = (res["kind"] == "小区").to_numpy()
    for code in sc:
        for _ in range(50):
            pool = np.flatnonzero(urban) if code in _URBAN else np.flatnonzero(~urban)
            if code not in _URBAN | _RURAL:
                pool = np.arange(len(res))
            j = pool[int(rng.integers(0, len(pool)))]
            dist = rng.uniform(120, 500) if code in _URBAN else rng.uniform(400, 1800)
            ox, oy = _polar(rng, dist)
            x, y = rx[j] + ox, ry[j] + oy
            if outline.contains(Point(x, y)) and np.hypot(rx - x, ry - y).min() > 80:
                break
        rows.append({"x": float(x), "y": float(y), "code": str(code), "park": ""})
    df = pd.DataFrame(rows)
    df["role"] = "other"
    df["source_of"] = ""
    return df, parks


# Beyond the plume's dilution: coarse dust settles out, odorants react and the plume loses
# coherence, so nuisance fades faster than the Gaussian formula alone says (e-folding
# distance, metres; 1800 m for the others).
_FADE_M = {"covert_night": 7000.0, "malfunction": 3000.0, "windy_dust": 1200.0,
           "restaurant_fumes": 250.0, "transfer_station": 900.0}
# Least distance from a source to the nearest neighbourhood centre, metres (500 m for the others).
_CLEARANCE_M = {"night_construction": 100, "restaurant_fumes": 30, "transfer_station": 150}


def _exposure(
    behaviour: str,
    sx: float,
    sy: float,
    res: pd.DataFrame,
    wind: pd.DataFrame,
    act: np.ndarray,
    rng: np.random.Generator,
    stack: float,
    buoy: float,
    reach: float,
    *,
    keep: dict[str, Any] | None = None,
) -> np.ndarray:
    """Nuisance probability factor per (hour, neighbourhood), zero where inactive.

    With ``keep`` (urban sources, whose smell carries 90-900 m, about the size of an
    estate) its active hours (``on``) and the nuisance at any points in the ``k``-th of them
    (``nuisance``) are stored in it, so that the households that call can be the ones the
    plume reaches (:func:`_near_field_households`), not any of the estate's.
    """
    rx, ry = res["x"].to_numpy(), res["y"].to_numpy()
    out = np.zeros((len(act), len(res)), dtype=np.float32)
    on = np.flatnonzero(act > 0)
    if len(on) == 0:
        return out
    if behaviour == "night_construction":
        r = np.maximum(np.hypot(rx - sx, ry - sy), 30.0)
        level = 116.0 - 20 * np.log10(r) - 11.0 - 0.005 * r  # dB(A)
        f = _sigmoid((level - 48.0) / 2.0)
        out[on] = (act[on, None] * f[None, :]).astype(np.float32)
        return out
    u = wind["speed"].to_numpy()[on]
    calm = wind["calm"].to_numpy()[on]
    stab = wind["stab"].to_numpy()[on]
    meander = rng.normal(0, 1, len(on)) * (8.0 + 18.0 / np.maximum(u, 0.5))
    wdir = np.where(calm, rng.uniform(0, 360, len(on)), wind["dir"].to_numpy()[on] + meander)
    u_eff = np.where(calm, 0.8, u)
    q = act[on]
    c = _plume(
        sx, sy, rx, ry, wind_from=wdir, u10=u_eff, stab=stab, q=q, stack_m=stack, buoyancy=buoy
    )
    dist = np.hypot(rx - sx, ry - sy)
    fade = _FADE_M.get(behaviour, 1800.0)
    c = c * np.exp(-dist / fade)[None, :]
    # Emission strength: chosen so that the odour threshold (c = 1) is reached in the worse
    # hours (98th percentile) at about ``reach`` metres from the source.
    if behaviour in _URBAN_BEHAVIOURS:
        # a reach of 100-900 m rarely has a neighbourhood centre in its ring: calibrate on
        # points of a circle of that radius instead (no random draws: other worlds unchanged)
        ang = np.deg2rad(np.arange(0.0, 360.0, 15.0))
        cx, cy = sx + reach * np.sin(ang), sy + reach * np.cos(ang)
        c_ring = _plume(sx, sy, cx, cy, wind_from=wdir, u10=u_eff, stab=stab, q=q, stack_m=stack,
                        buoyancy=buoy) * np.exp(-reach / fade)
        r98 = np.quantile(c_ring, 0.98, axis=0)
        ref = float(np.median(r98[r98 > 0])) if (r98 > 0).any() else 0.0
    else:
        c98 = np.quantile(c, 0.98, axis=0)
        ring = (dist > 0.7 * reach) & (dist < 1.3 * reach) & (c98 > 0)
        if not ring.any():
            ring = np.zeros(len(dist), dtype=bool)
            ring[np.argsort(np.abs(dist - reach) + np.where(c98 > 0, 0, 1e9))[:5]] = True
        ref = float(np.median(c98[ring]))
    if ref <= 0:
        return out
    if keep is not None:

        def nuisance(px: np.ndarray, py: np.ndarray, k: int) -> np.ndarray:
            """The nuisance factor at points ``(px, py)`` in the ``k``-th active hour."""
            ck = _plume(sx, sy, px, py, wind_from=wdir[k:k + 1], u10=u_eff[k:k + 1], stab=stab[k:k + 1],
                        q=q[k:k + 1], stack_m=stack, buoyancy=buoy)[0]
            ck = ck * np.exp(-np.hypot(px - sx, py - sy) / fade) / ref
            return _sigmoid(4.0 * np.log(np.maximum(ck, 1e-12)))

        keep.update(on=on, nuisance=nuisance)
    c = c / ref
    f = _sigmoid(4.0 * np.log(np.maximum(c, 1e-12)))  # 0.5 at the threshold (c = 1)
    out[on] = f.astype(np.float32)
    return out


def _place_sources(
    rng: np.random.Generator,
    cfg: WorldConfig,
    geo: dict[str, Any],
    res: pd.DataFrame,
    wind: pd.DataFrame,
    times: pd.DatetimeIndex,
    ents: pd.DataFrame,
    parks: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    outline = geo["outline"]
    rx, ry = res["x"].to_numpy(), res["y"].to_numpy()
    urban = (res["kind"] == "小区").to_numpy()
    sources: list[dict[str, Any]] = []
    exposures: list[np.ndarray] = []
    for b in cfg.behaviours:
        code = str(rng.choice(INDUSTRIES_OF_BEHAVIOUR[b]))
        act, facts = _schedule(rng, b, times, wind)
        stack, buoy = 15.0, 5.0
        p: dict[str, Any] | None = None
        for _attempt in range(60):
            p = None
            if b == "covert_night":
                p = parks[0]
                x, y = p["x"] + _polar(rng, p["r"] * 0.6)[0], p["y"] + _polar(rng, p["r"] * 0.6)[1]
                stack, buoy = rng.uniform(12, 20), rng.uniform(2, 8)  # low bypass vent, cool
            elif b == "malfunction":
                p = parks[1]
                x, y = p["x"] + _polar(rng, p["r"] * 0.6)[0], p["y"] + _polar(rng, p["r"] * 0.6)[1]
                stack, buoy = rng.uniform(25, 40), rng.uniform(10, 40)
            elif b == "work_hours":
                p = parks[2] if len(parks) > 2 and rng.random() < 0.5 else None
                if p is not None:
                    x, y = (
                        p["x"] + _polar(rng, p["r"] * 0.6)[0],
                        p["y"] + _polar(rng, p["r"] * 0.6)[1],
                    )
                else:
                    j = int(rng.choice(np.flatnonzero(urban)))
                    ox, oy = _polar(rng, rng.uniform(1200, 2500))
                    x, y = rx[j] + ox, ry[j] + oy
                stack, buoy = rng.uniform(8, 15), rng.uniform(0.5, 3)
            elif b == "night_construction":
                j = int(rng.choice(np.flatnonzero(urban)))
                ox, oy = _polar(rng, rng.uniform(150, 320))
                x, y = rx[j] + ox, ry[j] + oy
            elif b == "restaurant_fumes":
                j = int(rng.choice(np.flatnonzero(urban)))
                ox, oy = _polar(rng, rng.uniform(35, 90))
                x, y = rx[j] + ox, ry[j] + oy
                stack, buoy = rng.uniform(4, 12), rng.uniform(0.2, 1.0)  # kitchen exhaust
            elif b == "transfer_station":
                j = int(rng.choice(np.flatnonzero(urban)))
                ox, oy = _polar(rng, rng.uniform(180, 450))
                x, y = rx[j] + ox, ry[j] + oy
                stack, buoy = 2.0, 0.0
            elif b == "windy_dust":
                j = int(rng.choice(np.flatnonzero(~urban)))
                ox, oy = _polar(rng, rng.uniform(1200, 2500))
                x, y = rx[j] + ox, ry[j] + oy
                stack, buoy = 3.0, 0.0
            else:
                j = int(rng.choice(np.flatnonzero(~urban)))
                ox, oy = _polar(rng, rng.uniform(700, 1500))
                x, y = rx[j] + ox, ry[j] + oy
                stack, buoy = 2.0, 0.0
            near = np.hypot(rx - x, ry - y).min()
            ok = outline.contains(Point(x, y)) and near > _CLEARANCE_M.get(b, 500)
            if ok:
                break
        buoy = max(buoy, 1e-3)
        near_estate = float(np.hypot(rx[urban] - x, ry[urban] - y).min())
        reach = {
            "covert_night": near_estate * rng.uniform(0.8, 1.05),
            "malfunction": rng.uniform(2500, 4500),
            "work_hours": rng.uniform(1200, 2200),
            "windy_dust": rng.uniform(1500, 2500),
            "seasonal_livestock": rng.uniform(1000, 2000),
        }.get(b, 300.0)
        if b in _URBAN_BEHAVIOURS:  # drawn apart, so that the other worlds stay as they were
            reach = rng.uniform(90, 200) if b == "restaurant_fumes" else rng.uniform(400, 900)
        near: dict[str, Any] = {}
        exp = _exposure(b, float(x), float(y), res, wind, act, rng, stack, buoy, float(reach),
                        keep=near if b in _URBAN_BEHAVIOURS else None)
        sources.append(
            {
                "behaviour": b,
                "code": code,
                "x": float(x),
                "y": float(y),
                "act": act,
                "park": p["name"]
                if b in ("covert_night", "malfunction") or (b == "work_hours" and p)
                else "",
                "facts": facts,
                "stack_m": round(float(stack), 1),
                "reach_m": round(float(reach)),
                "buoyancy": round(float(buoy), 2),
                "kind": KIND_OF_BEHAVIOUR[b],
                "near": near,
            }
        )
        exposures.append(exp)
    return sources, exposures


def _place_decoys(
    rng: np.random.Generator,
    cfg: WorldConfig,
    geo: dict[str, Any],
    res: pd.DataFrame,
    sources: list[dict[str, Any]],
    exposures: list[np.ndarray],
    ents: pd.DataFrame,
) -> pd.DataFrame:
    rx, ry = res["x"].to_numpy(), res["y"].to_numpy()
    w = res["households"].to_numpy(float)
    rows = []
    for si, (s, e) in enumerate(zip(sources, exposures, strict=True)):
        load = e.sum(axis=0) * w
        order = np.argsort(load)[::-1][:4]
        n_dec = int(np.floor(cfg.decoys_per_source + rng.random() * 0.999))
        street = s["behaviour"] == "restaurant_fumes"  # the other restaurants of its street
        for k in range(n_dec):
            j = int(order[k % len(order)] if k < 2 else rng.choice(order))
            d_src = float(np.hypot(rx[j] - s["x"], ry[j] - s["y"]))
            for _ in range(100):
                if street:
                    ox, oy = _polar(rng, rng.uniform(30, 160))
                    x, y = s["x"] + ox, s["y"] + oy
                    clear = np.hypot(rx - x, ry - y).min() > 25
                else:
                    d = rng.uniform(0.25, 0.6) * min(d_src, 1500.0)
                    ox, oy = _polar(rng, d)
                    x, y = rx[j] + ox, ry[j] + oy
                    clear = np.hypot(rx - x, ry - y).min() > 60
                if geo["outline"].contains(Point(x, y)) and clear:
                    break
            code = str(rng.choice(DECOY_INDUSTRIES.get(s["code"], [s["code"]])))
            if s["kind"] == "odour" and k >= 2 and rng.random() < 0.5:
                code = "H62"
            rows.append(
                {
                    "x": float(x),
                    "y": float(y),
                    "code": code,
                    "park": "",
                    "role": "decoy",
                    "source_of": f"src{si}",
                    "resident": res["resident_id"].iloc[j],
                    "decoy_distance_m": round(float(np.hypot(rx[j] - x, ry[j] - y)), 1),
                    "source_distance_m": round(d_src, 1),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "x",
            "y",
            "code",
            "park",
            "role",
            "source_of",
            "resident",
            "decoy_distance_m",
            "source_distance_m",
        ],
    )


def _finish_enterprises(
    rng: np.random.Generator,
    cfg: WorldConfig,
    geo: dict[str, Any],
    frame: _Frame,
    ents: pd.DataFrame,
    sources: list[dict[str, Any]],
    decoys: pd.DataFrame,
) -> pd.DataFrame:
    """Merge background firms, sources and decoys; give ids, names, permits, monitors, status."""
    src_rows = pd.DataFrame(
        [
            {
                "x": s["x"],
                "y": s["y"],
                "code": s["code"],
                "park": s.get("park", ""),
                "role": "source",
                "source_of": f"src{i}",
                "key": f"src{i}",
            }
            for i, s in enumerate(sources)
        ]
    )
    dec = decoys.assign(key=[f"dec{i}" for i in range(len(decoys))])
    # Fractional decoy counts can overshoot the requested total: drop background firms.
    over = len(ents) + len(src_rows) + len(dec) - cfg.n_enterprises
    if over > 0:
        drop = rng.choice(len(ents), size=min(over, len(ents)), replace=False)
        ents = ents.drop(index=ents.index[drop]).reset_index(drop=True)
    ents = ents.assign(key="")
    parts = [ents, src_rows, dec[["x", "y", "code", "park", "role", "source_of", "key"]]]
    df = pd.concat([p for p in parts if len(p)], ignore_index=True)
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    n = len(df)
    width = max(3, len(str(n)))
    df["enterprise_id"] = [f"E{i:0{width}d}" for i in range(1, n + 1)]
    df["industry"] = [tx.INDUSTRIES[c][0] for c in df["code"]]
    area = _area_of(df["x"].to_numpy(), df["y"].to_numpy(), geo)
    df["area"] = area
    names, seen = [], set()
    for c, a in zip(df["code"], area, strict=True):
        place = (a or "城区")[:-2] if str(a).endswith("街道") else (a or "城区")[:-1]
        for _ in range(30):
            nm = tx.enterprise_name(rng, c, place)
            if nm not in seen:
                break
        else:
            nm = f"{nm}{len(seen)}"
        seen.add(nm)
        names.append(nm)
    df["name"] = names
    lon, lat = frame.to_lonlat(df["x"], df["y"])
    df["lon"] = np.char.mod("%.6f", lon)
    df["lat"] = np.char.mod("%.6f", lat)
    df["crs"] = "wgs84"
    small = df["code"].isin(["H62", "A03", "E47"]).to_numpy()
    has_permit = (rng.random(n) < np.where(small, 0.25, 0.85)) | (df["role"] == "source").to_numpy()
    permits = [
        f"91370{int(rng.integers(900, 999))}MA{''.join(rng.choice(list('0123456789ABCDEFGHJKLMNPQRTUWXY'), 8))}{int(rng.integers(1, 4)):03d}{'PVQ'[int(rng.integers(0, 3))]}"
        for _ in range(n)
    ]
    df["permit_id"] = np.where(has_permit, permits, "")
    monitored = (
        df["code"]
        .isin(["C2614", "C2619", "C27", "C2641", "C29", "D4620", "C22", "C30", "C2625"])
        .to_numpy()
    )
    mon = (monitored & ((df["park"] != "").to_numpy() | (rng.random(n) < 0.5))) | (
        (df["role"] == "source").to_numpy()
        & df["code"]
        .isin(["C2614", "C2619", "C27", "C2641", "C29", "C2913", "D4620", "C2625", "C22"])
        .to_numpy()
    )
    df["online_monitor"] = np.where(mon, "yes", "no")
    df["status"] = "operating"
    df["closed_on"] = ""
    # A few innocent firms close during the year (one of them a decoy, when there is one).
    others = np.flatnonzero((df["role"] == "other").to_numpy())
    dec = np.flatnonzero((df["role"] == "decoy").to_numpy())
    k = min(len(others), 3 + int(rng.integers(0, 3)))
    close = list(rng.choice(others, size=k, replace=False)) if k else []
    if len(dec):
        close.append(int(rng.choice(dec)))
    for i in close:
        d = pd.Timestamp("2025-11-01") + pd.Timedelta(days=int(rng.integers(40, 330)))
        df.loc[i, "status"] = "closed"
        df.loc[i, "closed_on"] = d.strftime("%Y-%m-%d")
    return df


# --- complaints ------------------------------------------------------------------------


def _households(
    rng: np.random.Generator, cfg: WorldConfig, scale: float, res: pd.DataFrame
) -> pd.DataFrame:
    """The households that might ever call, per neighbourhood, with a heavy-tailed propensity."""
    hhn = res["households"].to_numpy()
    # At scale > 1 the pools grow beyond the real households (a benchmark county is simply
    # more crowded); the growth keeps each household's call rate about constant.
    k = np.clip(
        np.round(hhn * 0.035 * max(scale, 1.0) ** 0.8).astype(int) + 2,
        3,
        np.round(hhn * max(scale, 1.0)).astype(int),
    )
    ri = np.repeat(np.arange(len(res)), k)
    n = len(ri)
    prop = rng.pareto(1.4, n) + 0.05
    radius = res["kind"].map({"小区": 160.0, "村": 220.0, "社区": 380.0}).to_numpy()[ri]
    ox, oy = rng.normal(0, 1, n) * radius / 2, rng.normal(0, 1, n) * radius / 2
    sh = np.asarray(cfg.channel_shares, dtype=float)
    pref = rng.choice(4, size=n, p=sh / sh.sum())
    names = tx.fake_names(rng, n)
    anon = rng.random(n) < 0.07
    names[anon] = np.where(rng.random(anon.sum()) < 0.3, "匿名", "")
    phones = tx.fake_phones(rng, n)
    style = rng.random(n)
    phones = np.array(
        [
            f"{p[:3]}-{p[3:7]}-{p[7:]}" if st < 0.1 else (f"+86 {p}" if st < 0.14 else p)
            for p, st in zip(phones.tolist(), style.tolist(), strict=True)
        ],
        dtype=object,
    )
    # Normalised cumulative propensity within each neighbourhood, offset by its index, so one
    # searchsorted picks a household for many complaints at once.
    cum = np.zeros(n)
    starts = np.r_[0, np.cumsum(k)[:-1]]
    csum = np.cumsum(prop)
    tot = np.add.reduceat(prop, starts)
    before = csum[starts] - prop[starts]
    cum = (csum - np.repeat(before, k)) / np.repeat(tot, k) + ri
    return pd.DataFrame(
        {
            "household_id": [f"H{i:06d}" for i in range(n)],
            "res": ri,
            "prop": prop,
            "ox": ox,
            "oy": oy,
            "pref": pref,
            "name": names,
            "phone": phones,
            "building": rng.integers(1, 31, n),
            "unit": rng.integers(1, 5, n),
            "cum": cum,
        }
    )


def _near_field_households(
    rng: np.random.Generator,
    ev: pd.DataFrame,
    hh: pd.DataFrame,
    res: pd.DataFrame,
    sources: list[dict[str, Any]],
) -> np.ndarray:
    """Households calling about an urban source: those its plume reaches in that hour.

    A neighbourhood's exposure is computed at its centre, which is right for a plant km
    away. A restaurant 35-90 m from an estate's centre lies among its homes (households
    spread about 80 m around it): the homes downwind of the kitchen smell it, those on the
    far side of it do not. So for complaints caused by a source with a stored nuisance
    (``near``), the household is drawn in its neighbourhood with weight
    ``propensity x nuisance at the household`` (the same plume, meander and threshold as
    the centre's); the centre's pick stays when no household is reached (not seen in
    the generated worlds). Draws random numbers only when there are such complaints, so
    other worlds are unchanged. Which hours and neighbourhoods complain is still decided
    at the neighbourhood's centre. One plume evaluation per (hour, neighbourhood): fine for
    a county (scale 1-10), slow for ``--preset urban`` at benchmark scales (hundreds).
    """
    out = ev["hh"].to_numpy().copy()
    src = ev["src"].to_numpy()
    first = np.searchsorted(hh["res"].to_numpy(), np.arange(len(res) + 1))
    hx = res["x"].to_numpy()[hh["res"].to_numpy()] + hh["ox"].to_numpy()
    hy = res["y"].to_numpy()[hh["res"].to_numpy()] + hh["oy"].to_numpy()
    prop = hh["prop"].to_numpy()
    res_of = ev["res"].to_numpy()
    for si, s in enumerate(sources):
        nf = s.get("near")
        if not nf:
            continue
        rows = np.flatnonzero(src == si)
        if rows.size == 0:
            continue
        t_rows = ev["t"].to_numpy()[rows]
        pos = np.searchsorted(nf["on"], t_rows)
        # complaints come only from the hours the source's exposure is non-zero
        assert (pos < len(nf["on"])).all() and (nf["on"][pos] == t_rows).all()
        seen: dict[tuple[int, int], tuple[np.ndarray, float]] = {}  # (hour, neighbourhood)
        for i, k in zip(rows.tolist(), pos.tolist(), strict=True):
            r = int(res_of[i])
            a, b = int(first[r]), int(first[r + 1])  # >= 3 households each
            if (k, r) not in seen:
                wgt = prop[a:b] * nf["nuisance"](hx[a:b], hy[a:b], k)
                seen[k, r] = (np.cumsum(wgt), float(wgt.sum()))
            cum, tot = seen[k, r]
            if tot > 1e-9:
                out[i] = a + min(int(np.searchsorted(cum, rng.random() * tot)), b - a - 1)
    return out


def _complaints(
    rng: np.random.Generator,
    cfg: WorldConfig,
    scale: float,
    res: pd.DataFrame,
    sources: list[dict[str, Any]],
    exposures: list[np.ndarray],
    times: pd.DatetimeIndex,
    geo: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    hh = _households(rng, cfg, scale, res)
    n_h = len(times)
    hour = times.hour.to_numpy()
    w = res["households"].to_numpy(float)
    awake = np.where((hour >= 6) & (hour < 22), 1.0, np.where(hour >= 22, 0.55, 0.3))
    base = cfg.complaints_per_year * scale / (1 + cfg.duplicate_share)
    n_src_total = base * (1 - cfg.background_share)
    share = rng.dirichlet(np.full(len(sources), 4.0)) if sources else np.array([])
    share = np.maximum(share, 0.08)
    share = share / share.sum() if len(share) else share
    episodes = []
    for s in sources:
        ep = np.full(n_h, -1)
        for k, (a, b) in enumerate(_runs(s["act"] > 0, merge_gap=6)):
            ep[a:b] = k
        episodes.append(ep)
    cum = hh["cum"].to_numpy()

    def draw(factor: float) -> list[pd.DataFrame]:
        parts: list[pd.DataFrame] = []
        for si, e in enumerate(exposures):
            lam = e * awake[:, None] * w[None, :]
            tot = float(lam.sum())
            if tot <= 0:
                continue
            counts = rng.poisson(lam * (factor * n_src_total * share[si] / tot))
            ti, ni = np.nonzero(counts)
            rep = counts[ti, ni]
            t = np.repeat(ti, rep)
            parts.append(
                pd.DataFrame(
                    {
                        "t": t,
                        "res": np.repeat(ni, rep),
                        "src": si,
                        "episode": episodes[si][t],
                        "category": sources[si]["kind"],
                    }
                )
            )
        return parts

    def settle(parts: list[pd.DataFrame]) -> pd.DataFrame:
        ev = pd.concat(parts, ignore_index=True)
        # Pick the household: propensity-weighted within the neighbourhood.
        hh_i = np.searchsorted(cum, ev["res"].to_numpy() + rng.random(len(ev)))
        ev["hh"] = np.minimum(hh_i, len(cum) - 1)
        if any(s.get("near") for s in sources):
            ev["hh"] = _near_field_households(rng, ev, hh, res, sources)
        ev["exp_min"] = rng.uniform(0, 60, len(ev))
        ev = ev.sort_values(["hh", "src", "t", "exp_min"], kind="stable").reset_index(drop=True)
        # A household calls once about the same nuisance within four hours.
        h_, s_ = ev["hh"].to_numpy(), ev["src"].to_numpy()
        same = (h_[1:] == h_[:-1]) & (s_[1:] == s_[:-1])
        close = np.r_[False, same & (np.diff(ev["t"].to_numpy()) < 4) & (s_[1:] >= 0)]
        return ev.loc[~close].reset_index(drop=True)

    n_bg = int(rng.poisson(base * cfg.background_share))
    p_hour = np.array(
        [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1.2,
            2.2,
            3.2,
            3.5,
            3.4,
            3.0,
            2.2,
            2.2,
            2.6,
            2.8,
            2.8,
            2.6,
            2.4,
            2.8,
            3.0,
            2.8,
            2.0,
            1.4,
        ]
    )
    day = rng.integers(0, n_h // 24, n_bg)
    hr = rng.choice(24, size=n_bg, p=p_hour / p_hour.sum())
    cats = rng.choice(
        ["odour", "noise", "dust", "water", "waste", "other"],
        size=n_bg,
        p=[0.30, 0.30, 0.10, 0.12, 0.10, 0.08],
    )
    bg = pd.DataFrame(
        {
            "t": day * 24 + hr,
            "res": rng.choice(len(res), size=n_bg, p=w / w.sum()),
            "src": -1,
            "episode": -1,
            "category": cats,
        }
    )
    src_parts = draw(1.0)
    drawn = sum(len(p) for p in src_parts)
    ev = settle([*src_parts, bg])
    kept = int((ev["src"] >= 0).sum())
    factor = 1.0
    for _ in range(2):
        if not drawn or kept >= 0.97 * drawn:
            break
        # Busy households lose calls to the four-hour rule; draw again, a little more.
        factor *= drawn / max(kept, 1)
        ev = settle([*draw(factor), bg])
        kept = int((ev["src"] >= 0).sum())
    ev["dup"] = False
    # Second reports of the same happening, usually on another channel, hours later.
    n = len(ev)
    dup_idx = np.flatnonzero(rng.random(n) < cfg.duplicate_share)
    d = ev.iloc[dup_idx].copy()
    d["dup"] = True
    d["of"] = dup_idx
    ev["of"] = -1
    ev = pd.concat([ev, d], ignore_index=True)
    # Reporting lags (minutes), heavy-tailed; night smells are often reported next morning.
    n = len(ev)
    med, sig = (20.0, 1.1) if cfg.lag == "short" else (110.0, 1.45)
    lag = np.minimum(rng.lognormal(math.log(med), sig, n), 72 * 60)
    exp_t = ev["t"].to_numpy() * 60 + ev["exp_min"].to_numpy()  # minutes from start
    hod = ev["t"].to_numpy() % 24
    defer = ((hod < 6) | (hod >= 23)) & (rng.random(n) < 0.45)
    next_morning = (ev["t"].to_numpy() // 24 + (hod >= 23)) * 24 * 60 + rng.uniform(
        7 * 60, 9.5 * 60, n
    )
    rep_t = np.where(defer, next_morning + lag * 0.2, exp_t + lag)
    pref = hh["pref"].to_numpy()[ev["hh"].to_numpy()]
    sh = np.asarray(cfg.channel_shares, dtype=float)
    ch = np.where(rng.random(n) < 0.75, pref, rng.choice(4, size=n, p=sh / sh.sum()))
    dupm = ev["dup"].to_numpy()
    orig_ch = np.where(dupm, ch[np.where(dupm, ev["of"].to_numpy(), 0)], ch)
    ch = np.where(dupm, (orig_ch + rng.integers(1, 4, n)) % 4, ch)
    rep_t = np.where(
        dupm, rep_t[np.where(dupm, ev["of"].to_numpy(), 0)] + rng.uniform(60, 720, n), rep_t
    )
    rep_t = rep_t + np.where(ch == 3, rng.uniform(120, 720, n), 0.0)  # 12345 transfers
    ev["channel"] = ch
    ev["rep_min"] = rep_t
    ev["exp_t"] = exp_t
    ev = ev.loc[rep_t < n_h * 60].copy()
    return ev, hh


def _render_complaints(
    rng: np.random.Generator,
    cfg: WorldConfig,
    scale: float,
    ev: pd.DataFrame,
    hh: pd.DataFrame,
    res: pd.DataFrame,
    sources: list[dict[str, Any]],
    frame: _Frame,
    times: pd.DatetimeIndex,
    *,
    r_when: np.random.Generator | None = None,
    r_smell: np.random.Generator | None = None,
    r_name: np.random.Generator | None = None,
    ents: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from envtrace.geo import from_wgs84

    t0 = times[0]
    ev = ev.reset_index(drop=False).rename(columns={"index": "row0"})
    ev = ev.sort_values(["rep_min", "row0"], kind="stable").reset_index(drop=True)
    n = len(ev)
    hi = ev["hh"].to_numpy()
    ri = ev["res"].to_numpy()
    src = ev["src"].to_numpy()
    ch = ev["channel"].to_numpy()
    # Causes: first report of a household about a source, its repeats, duplicates, background.
    order = np.lexsort((ev["rep_min"].to_numpy(), src, hi))
    hs, ss = hi[order], src[order]
    first = np.r_[True, (hs[1:] != hs[:-1]) | (ss[1:] != ss[:-1])]
    rt = ev["rep_min"].to_numpy()[order]
    ep = ev["episode"].to_numpy()[order]
    near_prev = np.r_[False, (~first[1:]) & (rt[1:] - rt[:-1] < 24 * 60) & (ep[1:] == ep[:-1])]
    cause_o = np.where(
        ss < 0, "background", np.where(first, "source", np.where(near_prev, "duplicate", "repeat"))
    )
    cause = np.empty(n, dtype=object)
    cause[order] = cause_o
    cause = np.where(ev["dup"].to_numpy(), "duplicate", cause)
    cause = np.where(
        (src < 0) & (cause == "duplicate"), "duplicate", np.where(src < 0, "background", cause)
    )
    ev["cause"] = cause
    # Times (minutes after the start, naive local).
    rep_m = np.floor(ev["rep_min"].to_numpy()).astype(np.int64)
    day_i = rep_m // 1440
    first_of_day = np.r_[0, np.flatnonzero(np.diff(day_i)) + 1] if n else np.array([], dtype=int)
    seq = np.arange(n) - np.repeat(first_of_day, np.diff(np.r_[first_of_day, n])) + 1
    width = max(4, len(str(int(seq.max())))) if n else 4
    dkeys = {int(d): (t0 + pd.Timedelta(days=int(d))).strftime("%Y%m%d") for d in np.unique(day_i)}
    ids = np.array(
        [f"TS{dkeys[d]}{q:0{width}d}" for d, q in zip(day_i.tolist(), seq.tolist(), strict=True)],
        dtype=object,
    )
    style = np.array([0, 2, 0, 1])[ch]
    received = _fmt_minutes(t0, rep_m, style)
    close_min = np.minimum(rng.lognormal(math.log(3 * 24 * 60), 0.8, n), 30 * 24 * 60)
    closed_m = rep_m + np.floor(close_min).astype(np.int64)
    is_closed = (closed_m < (_EXPORT_DAY - t0).total_seconds() // 60) & (rng.random(n) < 0.97)
    closed_at = np.where(is_closed, _fmt_minutes(t0, closed_m, style), "")
    # Satisfaction: worse while the source keeps going.
    active_later = np.zeros(n, dtype=bool)
    for si, s in enumerate(sources):
        m = src == si
        end_h = s["facts"]["end_day"] * 24
        active_later[m] = ev["t"].to_numpy()[m] < end_h
    u = rng.random(n)
    sat = np.where(
        active_later,
        np.select([u < 0.3, u < 0.62], ["满意", "基本满意"], "不满意"),
        np.select([u < 0.58, u < 0.87], ["满意", "基本满意"], "不满意"),
    )
    sat = np.where(is_closed & (rng.random(n) < 0.8), sat, "")
    # Where: the household's home with a little GPS scatter; some geocoded to the estate centre.
    rx, ry = res["x"].to_numpy(), res["y"].to_numpy()
    hx = rx[ri] + hh["ox"].to_numpy()[hi]
    hy = ry[ri] + hh["oy"].to_numpy()[hi]
    cx = np.where((ch == 0) & (rng.random(n) < 0.12), rx[ri], hx + rng.normal(0, 12, n))
    cy = np.where((ch == 0) & (rng.random(n) < 0.12), ry[ri], hy + rng.normal(0, 12, n))
    lon, lat = frame.to_lonlat(cx, cy)
    crs_code = np.array(["wgs84", "gcj02", "bd09", "wgs84"], dtype=object)[ch]
    crs_code = np.where((ch == 3) & (rng.random(n) < 0.2), "cgcs2000", crs_code)
    olon, olat = from_wgs84(lon, lat, crs_code.astype(str))
    u = rng.random(n)
    spelled = {
        "gcj02": ("GCJ-02", "火星坐标"),
        "bd09": ("BD-09", "百度坐标"),
        "wgs84": ("WGS84", "WGS-84"),
        "cgcs2000": ("CGCS2000", "cgcs2000"),
    }
    crs_out = crs_code.copy()
    for key, (a, b) in spelled.items():
        m = crs_code == key
        crs_out[m & (u < 0.08)] = a
        crs_out[m & (u >= 0.08) & (u < 0.12)] = b
    lon_s = _fmt_float(olon)
    lat_s = _fmt_float(olat)
    # Area and address.
    area_true = res["area"].to_numpy()[ri]
    area = np.where((ch == 0) | (ch == 3) | (rng.random(n) < 0.2), area_true, "")
    kind = res["kind"].to_numpy()[ri]
    rname = res["name"].to_numpy()[ri]
    bld = hh["building"].to_numpy()[hi].tolist()
    unit = hh["unit"].to_numpy()[hi].tolist()
    address = np.array(
        [
            f"{a}{r}{b}号楼{u}单元" if k == "小区" else f"{a}{r}"
            for a, r, b, u, k in zip(
                area_true.tolist(), rname.tolist(), bld, unit, kind.tolist(), strict=True
            )
        ],
        dtype=object,
    )
    address[rng.random(n) < 0.1] = ""
    # Texts: rendered one by one at small scale, drawn from a rendered pool at large scale.
    hours = ev["t"].to_numpy() % 24
    cats = ev["category"].to_numpy()
    smell = np.array(
        [tx.SMELL_KIND_BY_INDUSTRY.get(s["code"], "chemical") for s in sources] + [""], dtype=object
    )
    sm = smell[np.where(src >= 0, src, len(sources))]
    if r_smell is not None and cfg.smell_word_share < 1:
        # source complaints that do not name their source's kind of smell name one at random
        # (their own stream: with the default 1.0 no draw changes the texts)
        kinds = np.array(tx.SMELL_KINDS, dtype=object)
        swap = (r_smell.random(n) >= cfg.smell_word_share) & (src >= 0) & (cats == "odour")
        sm[swap] = kinds[r_smell.integers(0, kinds.size, int(swap.sum()))]
    texts = np.empty(n, dtype=object)
    dupm = ev["dup"].to_numpy()
    # Which texts say when, and which of those say it wrong (their own stream: with the
    # defaults, 1.0 and 0.0, no draw changes the texts).
    say_when = np.ones(n, dtype=bool)
    said_hour = hours.copy()
    if r_when is not None and (cfg.time_word_share < 1 or cfg.time_word_error > 0):
        say_when = r_when.random(n) < cfg.time_word_share
        wrong = r_when.random(n) < cfg.time_word_error
        said_hour = np.where(wrong, r_when.integers(0, 24, n), hours)
    if n <= 40_000:
        for i in range(n):
            texts[i] = tx.render_text(
                rng,
                str(cats[i]),
                hour=int(said_hour[i]),
                place=str(rname[i]),
                smell=(str(sm[i]) or None),
                say_when=bool(say_when[i]),
            )
    else:
        texts[:] = _text_pool(rng, cats, hours, sm, rname)
    # Duplicates repeat (roughly) the first report's text.
    row_of = {int(r): i for i, r in enumerate(ev["row0"].to_numpy())}
    of = ev["of"].to_numpy()
    for i in np.flatnonzero(dupm & (n <= 40_000)):
        j = row_of.get(int(of[i]))
        if j is not None:
            texts[i] = tx.rephrase(rng, str(texts[j]))
    # Some texts name an enterprise (their own stream: the draws above do not move).
    named = np.full(n, "", dtype=object)
    if r_name is not None and ents is not None and cfg.name_share > 0 and n:
        texts, named = _name_mentions(r_name, cfg, texts, cats, src, cause, hx, hy, ents)
    # Category filled by staff on part of the rows, more on the hotline.
    fill_p = np.array([0.8, 0.45, 0.4, 0.65])[ch] * cfg.category_fill / 0.6
    category = np.where(rng.random(n) < fill_p, cats, "")
    out = pd.DataFrame(
        {
            "complaint_id": ids,
            "received_at": received,
            "lon": lon_s,
            "lat": lat_s,
            "crs": crs_out,
            "channel": np.array(CHANNELS, dtype=object)[ch],
            "category": category,
            "text": texts,
            "address": address,
            "complainant": hh["name"].to_numpy()[hi],
            "phone": np.where(
                rng.random(n) < np.array([0.0, 0.25, 0.2, 0.02])[ch], "", hh["phone"].to_numpy()[hi]
            ),
            "closed_at": closed_at,
            "satisfaction": sat,
            "area": area,
        },
        dtype=object,
    )
    # Deliberately bad rows, recorded in the truth.
    bad = np.full(n, "", dtype=object)
    n_bad = int(round(cfg.bad_row_share * n))
    if n_bad and n > 10:
        rows = rng.choice(np.arange(5, n), size=n_bad, replace=False)
        kinds = np.array(
            [
                "missing_coordinates",
                "zero_coordinates",
                "swapped_coordinates",
                "outside_study_area",
                "unparsable_time",
                "duplicate_id",
            ]
        )[np.arange(n_bad) % 6]
        lon_c, lat_c = out["lon"].to_numpy().copy(), out["lat"].to_numpy().copy()
        rec, idc = out["received_at"].to_numpy().copy(), out["complaint_id"].to_numpy().copy()
        for r, k in zip(rows, kinds, strict=True):
            if k == "missing_coordinates":
                lon_c[r] = lat_c[r] = ""
            elif k == "zero_coordinates":
                lon_c[r] = lat_c[r] = "0"
            elif k == "swapped_coordinates":
                lon_c[r], lat_c[r] = lat_c[r], lon_c[r]
            elif k == "outside_study_area":
                lon_c[r] = f"{float(lon_c[r]) + rng.uniform(1.5, 3.0):.6f}"
                lat_c[r] = f"{float(lat_c[r]) + rng.uniform(0.8, 1.6):.6f}"
            elif k == "unparsable_time":
                rec[r] = str(rng.choice(["2026-13-45 25:61", "昨天夜里", "待核实", "0000-00-00"]))
            else:
                idc[r] = idc[int(rng.integers(0, r))]
            bad[r] = k
        out["lon"], out["lat"], out["received_at"], out["complaint_id"] = lon_c, lat_c, rec, idc
    eid = np.array([s["enterprise_id"] for s in sources] + [""], dtype=object)
    src_id = eid[np.where(src >= 0, src, len(sources))]
    epi = np.array(
        [
            f"{e}-{k:03d}" if e else ""
            for e, k in zip(src_id.tolist(), ev["episode"].tolist(), strict=True)
        ],
        dtype=object,
    )
    tlon, tlat = frame.to_lonlat(hx, hy)
    truth = pd.DataFrame(
        {
            "complaint_id": out["complaint_id"].to_numpy(),
            "source_row": np.arange(1, n + 1),
            "source_enterprise_id": src_id,
            "episode_id": epi,
            "cause": cause,
            "category": cats,
            "exposure_at": _fmt_minutes(t0, ev["t"].to_numpy() * 60),
            "reported_at": _fmt_minutes(t0, rep_m),
            "channel": out["channel"].to_numpy(),
            "household_id": hh["household_id"].to_numpy()[hi],
            "resident_id": res["resident_id"].to_numpy()[ri],
            "true_lon": _fmt_float(tlon),
            "true_lat": _fmt_float(tlat),
            "named_enterprise_id": named,
            "bad": bad,
        },
        dtype=object,
    )
    return out, truth


_NAME_PHRASES = (
    "怀疑是{n}。", "估计是{n}那边的。", "附近的{n}嫌疑很大。", "是不是{n}的问题？",
    "周围邻居都说是{n}。", "请查一下{n}。",
)


def _mention(rng: np.random.Generator, name: str) -> str:
    """How a complainant names an enterprise: in full, without the legal form, by brand
    and trade, or by brand alone ("鲁泰那个厂")."""
    short = name.removesuffix("有限公司")
    root = next((r for r in tx.NAME_ROOTS if r in short), "")
    trade = short.split(root, 1)[1] if root else ""
    u = rng.random()
    if u < 0.2 or not root:
        return name if u < 0.1 else short
    if u < 0.55 or not trade:
        return f"{root}{trade}"
    if u < 0.8:
        return f"{root}{trade}厂" if not trade.endswith(("厂", "场", "店")) else f"{root}{trade}"
    return f"{root}那个厂"


def _name_mentions(
    rng: np.random.Generator,
    cfg: WorldConfig,
    texts: np.ndarray,
    cats: np.ndarray,
    src: np.ndarray,
    cause: np.ndarray,
    hx: np.ndarray,
    hy: np.ndarray,
    ents: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray]:
    """Append to a share ``name_share`` of the texts a phrase naming an enterprise; return
    the texts and the named enterprise id per complaint (``""``: none)."""
    from scipy.spatial import cKDTree

    from envtrace.profiles import profile_for

    n = texts.size
    ex, ey = ents["x"].to_numpy(dtype=float), ents["y"].to_numpy(dtype=float)
    prof = profile_for(ents["code"].tolist())
    key = ents["key"].to_numpy()
    eid = ents["enterprise_id"].to_numpy()
    names = ents["name"].to_numpy()
    src_row = {int(k[3:]): i for i, k in enumerate(key.tolist()) if str(k).startswith("src")}
    says = rng.random(n) < cfg.name_share
    true_name = says & (src >= 0) & (cause != "background") & (rng.random(n) < cfg.name_source_share)
    who = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(true_name):
        who[i] = src_row.get(int(src[i]), -1)
    rest = np.flatnonzero(says & (who < 0))
    if rest.size:
        k = min(30, len(ents))
        d, nb = cKDTree(np.c_[ex, ey]).query(np.c_[hx[rest], hy[rest]], k=k)
        d, nb = d.reshape(rest.size, k), nb.reshape(rest.size, k)
        can = np.zeros(nb.shape, dtype=bool)
        for c in np.unique(cats[rest]):
            m = cats[rest] == c
            if c in prof.columns:
                can[m] = prof[c].to_numpy(dtype=float)[nb[m]] > 0
        w = can / (1.0 + (d / 700.0) ** 2)
        tot = w.sum(axis=1)
        u = rng.random(rest.size) * tot
        pick = np.minimum((np.cumsum(w, axis=1) < u[:, None]).sum(axis=1), k - 1)
        who[rest] = np.where(tot > 0, nb[np.arange(rest.size), pick], -1)
        if cfg.name_notorious_share > 0:
            innocent = np.setdiff1d(np.flatnonzero(prof["odour"].to_numpy(dtype=float) > 0),
                                    list(src_row.values()))
            if innocent.size:
                notorious = int(rng.choice(innocent))
                swap = rng.random(rest.size) < cfg.name_notorious_share
                who[rest[swap]] = notorious
    out = texts.copy()
    phrase = rng.integers(0, len(_NAME_PHRASES), n)
    for i in np.flatnonzero(who >= 0):
        if str(out[i]) and not str(out[i]).endswith(("。", "！", "？", "!", "?", ".")):
            out[i] = f"{out[i]}。"
        out[i] = f"{out[i]}{_NAME_PHRASES[phrase[i]].format(n=_mention(rng, str(names[who[i]])))}"
    named = np.where(who >= 0, eid[np.maximum(who, 0)], "").astype(object)
    return out, named


def _text_pool(
    rng: np.random.Generator,
    cats: np.ndarray,
    hours: np.ndarray,
    smell: np.ndarray,
    names: np.ndarray,
) -> np.ndarray:
    """Texts for large scales: 200 rendered variants per (category, smell, hour) cell."""
    bucket = np.array(
        [0, 2, 2, 2, 2, 2, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 18, 18, 18, 18, 18, 23, 23]
    )[hours]
    key = (
        pd.Series(cats.astype(str))
        + "|"
        + pd.Series(smell.astype(str))
        + "|"
        + pd.Series(bucket.astype(str))
    )
    codes, uniq = pd.factorize(key, sort=True)
    uniq_names = np.unique(names.astype(str))
    pool: list[list[str]] = []
    for k in uniq:
        c, s, h = str(k).split("|")
        pool.append(
            [
                tx.render_text(
                    rng, c, hour=int(h), place=str(rng.choice(uniq_names)), smell=s or None
                )
                for _ in range(200)
            ]
        )
    flat = np.array([t for p in pool for t in p], dtype=object)
    return flat[codes * 200 + rng.integers(0, 200, len(codes))]


# --- alarms and actions ----------------------------------------------------------------

_POLLUTANTS = {
    "C2614": "VOCs",
    "C2619": "SO2",
    "C27": "VOCs",
    "C2641": "VOCs",
    "C29": "VOCs",
    "C2913": "VOCs",
    "D4620": "COD",
    "C2625": "氨氮",
    "C22": "COD",
    "C30": "颗粒物",
}
_LIMITS = {"VOCs": 60.0, "SO2": 50.0, "NOx": 100.0, "颗粒物": 10.0, "COD": 50.0, "氨氮": 5.0}


def _alarms(
    rng: np.random.Generator,
    times: pd.DatetimeIndex,
    ents: pd.DataFrame,
    sources: list[dict[str, Any]],
) -> pd.DataFrame:
    rows: list[tuple[str, int, str]] = []
    mon = ents.loc[ents["online_monitor"] == "yes"]
    n_h = len(times)
    src_ids = {s["enterprise_id"]: s for s in sources}
    for eid, code in zip(mon["enterprise_id"], mon["industry"].str.split(" ").str[0], strict=True):
        pol = _POLLUTANTS.get(code, str(rng.choice(["颗粒物", "NOx", "SO2"])))
        s = src_ids.get(eid)
        if s is not None:
            on = np.flatnonzero(s["act"] > 0)
            if s["behaviour"] == "covert_night":
                # Covert discharges bypass the monitor; a few nights still trip it.
                nights = np.unique(on // 24)
                for d in nights[rng.random(len(nights)) < 0.12]:
                    hrs = on[on // 24 == d]
                    rows.append((eid, int(rng.choice(hrs)), pol))
            else:
                p = 0.09 if s["behaviour"] == "malfunction" else 0.01
                for t in on[rng.random(len(on)) < p]:
                    rows.append((eid, int(t), pol))
        for t in rng.integers(0, n_h, int(rng.poisson(4))):
            rows.append((eid, int(t), pol))
    if not rows:
        return pd.DataFrame(columns=["enterprise_id", "time", "pollutant", "value", "limit"])
    df = pd.DataFrame(rows, columns=["enterprise_id", "t", "pollutant"]).drop_duplicates(
        ["enterprise_id", "t"]
    )
    df = df.sort_values(["t", "enterprise_id"]).reset_index(drop=True)
    lim = df["pollutant"].map(_LIMITS).to_numpy()
    val = lim * rng.uniform(1.05, 3.2, len(df))
    return pd.DataFrame(
        {
            "enterprise_id": df["enterprise_id"],
            "time": (times[0] + pd.to_timedelta(df["t"].to_numpy(), unit="h")).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "pollutant": df["pollutant"],
            "value": np.char.mod("%.1f", val),
            "limit": np.char.mod("%g", lim),
        }
    )


# one inspection finds it (days after the fifth complaint), fixed at the end, verified after
_FOUND_AND_FIXED: dict[str, tuple[tuple[int, int], str, str, tuple[int, int]]] = {
    "windy_dust": ((1, 6), "现场检查，料堆未苫盖，无喷淋设施", "料堆全覆盖，安装喷淋降尘设施", (7, 15)),
    "restaurant_fumes": ((2, 8), "现场检查，油烟净化器未开启，排烟口朝向居民楼",
                         "安装油烟净化设施，排烟口改至楼顶", (5, 12)),
    "transfer_station": ((2, 8), "现场检查，中转站除臭设施未运行，渗滤液外溢", "密闭改造，增设除臭喷淋", (7, 15)),
}


def _actions(
    rng: np.random.Generator,
    times: pd.DatetimeIndex,
    sources: list[dict[str, Any]],
    decoys: pd.DataFrame,
    truth: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, str]]:
    t0 = times[0].normalize()
    last = len(times) // 24 - 1
    rows: list[tuple[int, str, str, str, int, str]] = []
    closures: dict[str, str] = {}

    def add(
        day: float, action: str, eid: str, note: str, persons: int | None = None, cid: str = ""
    ) -> None:
        d = int(day)
        if 0 <= d <= last:
            rows.append((d, action, cid, eid, persons or int(rng.integers(2, 6)), note))

    good = truth["bad"] == ""
    exp_day = (pd.to_datetime(truth["exposure_at"]) - t0).dt.days.to_numpy()
    for s in sources:
        eid, f, b = s["enterprise_id"], s["facts"], s["behaviour"]
        mine = np.sort(exp_day[(truth["source_enterprise_id"] == eid).to_numpy()])
        first = int(mine[min(4, len(mine) - 1)]) if len(mine) else f["start_day"] + 10
        if b == "covert_night":
            add(first + rng.integers(2, 6), "inspection", eid, "日间现场检查，未发现异常排放")
            add(
                first + rng.integers(30, 45),
                "inspection",
                eid,
                "夜间巡查，厂区有异味，未发现排放口异常",
            )
            add(f["end_day"], "inspection", eid, "夜间突击检查，发现绕过治理设施经暗管排放废气", 6)
            pen = f["end_day"] + int(rng.integers(1, 5))
            add(pen, "penalty_case", eid, "立案查处：通过逃避监管的方式排放大气污染物")
            pol = pen + int(rng.integers(3, 10))
            add(pol, "police_transfer", eid, "移送公安机关，涉嫌污染环境罪", 3)
            shut = pol + int(rng.integers(20, 40))
            if shut <= last:
                add(shut, "rectified", eid, "责令停产整治，企业关停")
                add(shut + rng.integers(5, 12), "verified", eid, "复查：企业已停产，现场无生产")
                closures[eid] = (t0 + pd.Timedelta(days=shut)).strftime("%Y-%m-%d")
        elif b == "malfunction":
            add(
                f["start_day"] + rng.integers(3, 8),
                "inspection",
                eid,
                "现场检查发现废气处理设施故障，活性炭未及时更换",
            )
            add(f["fix1"], "rectified", eid, "维修处理设施、更换活性炭")
            add(f["verify1"], "verified", eid, "复查合格，销号")
            add(
                f["recur_day"] + rng.integers(2, 6),
                "inspection",
                eid,
                "群众再次投诉，现场检查发现处理设施再次故障",
            )
            add(
                f["recur_day"] + rng.integers(6, 10),
                "penalty_case",
                eid,
                "立案查处：污染防治设施不正常运行",
            )
            add(f["fix2"], "rectified", eid, "更换处理设施，安装在线监控")
            add(f["verify2"], "verified", eid, "复查合格")
        elif b == "work_hours":
            add(first + rng.integers(3, 10), "inspection", eid, "现场检查，车间无组织排放明显")
            add(first + rng.integers(40, 70), "inspection", eid, "回访检查，整改未完成")
            add(f["end_day"], "rectified", eid, "安装废气收集和处理设施")
            add(f["end_day"] + rng.integers(7, 20), "verified", eid, "复查合格")
        elif b == "night_construction":
            add(
                first + rng.integers(2, 8),
                "inspection",
                eid,
                "夜间检查，工地未取得夜间施工许可仍在施工",
            )
            add(first + rng.integers(9, 15), "penalty_case", eid, "立案查处：夜间违规施工产生噪声")
            add(f["end_day"], "rectified", eid, "停止夜间施工")
            add(f["end_day"] + rng.integers(3, 8), "verified", eid, "夜间复查，未施工")
        elif b in _FOUND_AND_FIXED:
            (i0, i1), found, fixed, (v0, v1) = _FOUND_AND_FIXED[b]
            add(first + rng.integers(i0, i1), "inspection", eid, found)
            add(f["end_day"], "rectified", eid, fixed)
            add(f["end_day"] + rng.integers(v0, v1), "verified", eid, "复查合格")
        else:
            add(first + rng.integers(3, 10), "inspection", eid, "现场检查，粪污处理设施不完善")
            add(f["end_day"] + rng.integers(1, 10), "rectified", eid, "完善粪污处理设施")
            add(f["end_day"] + rng.integers(12, 25), "verified", eid, "复查合格")
        # The nearest look-alike firms usually get inspected first.
        for dec in decoys.loc[decoys["source_enterprise_id"] == eid, "enterprise_id"]:
            if len(mine) and rng.random() < 0.7:
                add(
                    int(rng.choice(mine)) + rng.integers(1, 4),
                    "inspection",
                    str(dec),
                    "现场检查，未发现异常",
                )
    # Site checks for individual complaints.
    ok = truth.loc[good]
    pick = ok.sample(frac=0.12, random_state=int(rng.integers(0, 2**31)))
    days = (pd.to_datetime(pick["reported_at"]) - t0).dt.days.to_numpy() + rng.integers(
        0, 3, len(pick)
    )
    notes = np.array(
        ["现场核查", "现场核查，未闻到明显异味", "现场核查，已向来电人反馈", "电话回访并现场查看"],
        dtype=object,
    )
    for d, cid, note in zip(days, pick["complaint_id"], rng.choice(notes, len(pick)), strict=True):
        if d <= last:
            rows.append((int(d), "inspection", str(cid), "", 2, str(note)))
    df = pd.DataFrame(
        rows, columns=["d", "action", "complaint_id", "enterprise_id", "persons", "note"]
    )
    df = df.sort_values(
        ["d", "enterprise_id", "complaint_id", "action"], kind="stable"
    ).reset_index(drop=True)
    df.insert(0, "date", (t0 + pd.to_timedelta(df["d"], unit="D")).dt.strftime("%Y-%m-%d"))
    return df.drop(columns="d"), closures


# --- areas, config, truth --------------------------------------------------------------


def _areas_geojson(geo: dict[str, Any], frame: _Frame) -> dict[str, Any]:
    feats = []
    for i, (name, poly) in enumerate(zip(geo["names"], geo["polys"], strict=True)):
        g = shapely.transform(poly, lambda a: np.round(np.c_[frame.to_lonlat(a[:, 0], a[:, 1])], 6))
        g = shapely.set_precision(g, 1e-6)
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "name": name,
                    "code": f"370923{i + 1:03d}",
                    "kind": "街道" if name.endswith("街道") else "镇",
                },
                "geometry": json.loads(shapely.to_geojson(g)),
            }
        )
    return {"type": "FeatureCollection", "name": "areas", "features": feats}


_OFFICIALS = [
    "张科长",
    "李局长",
    "王主任",
    "刘科长",
    "陈队长",
    "赵所长",
    "孙科长",
    "周主任",
    "吴队长",
    "郑科长",
    "黄副局长",
    "马科长",
]


def _toml(geo: dict[str, Any], rng: np.random.Generator) -> str:
    owners = rng.permutation(_OFFICIALS)
    lines = [
        "# envtrace settings for this dataset folder (written by envtrace.sample; edit freely).",
        "",
        "# Time zone of times written without an offset.",
        'tz = "Asia/Shanghai"',
        "# Coordinate system of rows whose crs column is empty.",
        'default_crs = "wgs84"',
        "",
        "# Case owner per township/street (乡镇/街道): the bureau official who owns a case",
        "# whose event lies in that area. Officials only, never complainants.",
        "[ledger.owners]",
    ]
    lines += [f'"{name}" = "{owners[i % len(owners)]}"' for i, name in enumerate(geo["names"])]
    return "\n".join(lines) + "\n"


def _truth_sources(
    sources: list[dict[str, Any]], ents: pd.DataFrame, truth: pd.DataFrame
) -> pd.DataFrame:
    t0 = pd.Timestamp("2025-11-01")
    rows = []
    for s in sources:
        e = ents.loc[ents["enterprise_id"] == s["enterprise_id"]].iloc[0]
        f = s["facts"]
        mine = truth.loc[truth["source_enterprise_id"] == s["enterprise_id"]]
        rows.append(
            {
                "enterprise_id": s["enterprise_id"],
                "name": e["name"],
                "industry": e["industry"],
                "behaviour": s["behaviour"],
                "kind": s["kind"],
                "schedule": f["schedule"],
                "active_from": (t0 + pd.Timedelta(days=int(f["start_day"]))).strftime("%Y-%m-%d"),
                "active_to": (t0 + pd.Timedelta(days=int(f["end_day"]))).strftime("%Y-%m-%d"),
                "recurrence_from": (
                    (t0 + pd.Timedelta(days=int(f["recur_day"]))).strftime("%Y-%m-%d")
                    if "recur_day" in f
                    else ""
                ),
                "active_hours": int((s["act"] > 0).sum()),
                "episodes": len(_runs(s["act"] > 0)),
                "stack_height_m": s["stack_m"] if s["kind"] != "noise" else "",
                "buoyancy_flux_m4s3": s["buoyancy"] if s["kind"] != "noise" else "",
                "lon": e["lon"],
                "lat": e["lat"],
                "park": s.get("park", ""),
                "distance_to_centre_m": round(math.hypot(s["x"], s["y"])),
                "n_complaints": len(mine),
                "n_households": mine["household_id"].nunique(),
            }
        )
    return pd.DataFrame(rows)


# --- command line ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m envtrace.sample --out DIR --seed N --scale X [--preset NAME]``."""
    ap = argparse.ArgumentParser(
        prog="python -m envtrace.sample", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--out", required=True, help="dataset folder to write (replaced whole)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the complaint volume")
    ap.add_argument(
        "--preset", default=None, help=f"one of {', '.join(list(PRESETS) + ['random'])}"
    )
    ap.add_argument("--n-enterprises", type=int, default=None)
    a = ap.parse_args(argv)
    try:
        world = generate(a.seed, scale=a.scale, preset=a.preset, n_enterprises=a.n_enterprises)
        world.write(a.out)
    except InputError as exc:
        print(f"envtrace: error: {exc}")
        return 2
    c = world.info["counts"]
    print(
        f"wrote {a.out}: {c['complaints']} complaints, {c['enterprises']} enterprises, "
        f"{len(world.truth_sources)} true sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
