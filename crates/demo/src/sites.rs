//! The demo's vaccination sites, after the seed: the Hechuan Road site, the temporary points, two
//! shopping-centre sites, two mobile vans and a workplace visit.

use chrono::{Days, NaiveDate};
use rand_chacha::ChaCha8Rng;
use vaxloop_core::{SiteKind, ZoneKind};

use crate::model::DemoSite;
use crate::places::{address, near_centre};

/// `(code, name, kind, (open from, open until), hours, size multiple)`.
type SiteDef = (
    &'static str,
    &'static str,
    SiteKind,
    (Option<NaiveDate>, Option<NaiveDate>),
    Vec<(i64, i64, i64)>,
    i64,
);

/// The sites of the seed: the Hechuan Road site, the temporary points, two malls, two vans and a
/// workplace visit. Daily doses scale with the town's size.
pub(crate) fn sites(rng: &mut ChaCha8Rng, today: NaiveDate, people: usize) -> Vec<DemoSite> {
    let scale = (people as f64 / 250_000.0).clamp(0.05, 4.0);
    site_defs(today)
        .into_iter()
        .map(|(code, name, kind, (open_from, open_until), hours, big)| {
            let (lat, lon) = near_centre(rng, 2.5);
            DemoSite {
                code: code.to_string(),
                name: name.to_string(),
                kind,
                address: address(rng),
                lat,
                lon,
                open_from,
                open_until,
                hours,
                zones: zones(kind, big),
                daily_doses: ((big as f64) * 700.0 * scale).round().max(40.0) as i64,
            }
        })
        .collect()
}

/// A site's zones, `(kind, space, desks am, desks pm, mean service seconds)`: in proportion to
/// its size multiple; a van has a few seats outside, one screening desk, one vaccinator.
fn zones(kind: SiteKind, big: i64) -> Vec<(ZoneKind, i64, i64, i64, i64)> {
    if kind == SiteKind::Mobile {
        return vec![
            (ZoneKind::Waiting, 20, 1, 1, 60),
            (ZoneKind::Screening, 4, 1, 1, 150),
            (ZoneKind::Vaccination, 2, 1, 1, 120),
            (ZoneKind::Observation, 15, 1, 1, 1800),
        ];
    }
    vec![
        (ZoneKind::Waiting, 60 * big, 2 * big, 2 * big, 60),
        (ZoneKind::Screening, 16 * big, 3 * big, 3 * big, 150),
        (ZoneKind::Vaccination, 12 * big, 3 * big, 2 * big, 120),
        (ZoneKind::Observation, 50 * big, big, big, 1800),
    ]
}

/// The sites' codes, names, kinds, dates open, hours and size multiples.
fn site_defs(today: NaiveDate) -> Vec<SiteDef> {
    let every_day = |o: i64, c: i64| (0..7).map(|d| (d, o, c)).collect::<Vec<_>>();
    let weekdays = |o: i64, c: i64| (0..5).map(|d| (d, o, c)).collect::<Vec<_>>();
    let temporary = (Some(today - Days::new(14)), Some(today + Days::new(45)));
    vec![
        (
            "HCL",
            "合川路接种点",
            SiteKind::Fixed,
            (None, None),
            every_day(480, 1080),
            4,
        ),
        (
            "HQC",
            "虹桥社区卫生服务中心",
            SiteKind::Fixed,
            (None, None),
            every_day(480, 1020),
            2,
        ),
        (
            "LBS",
            "龙柏卫生分中心临时接种点",
            SiteKind::Temporary,
            temporary,
            every_day(510, 990),
            1,
        ),
        (
            "ZHN",
            "振宏邻里中心临时接种点",
            SiteKind::Temporary,
            temporary,
            every_day(510, 990),
            1,
        ),
        (
            "CKF",
            "漕开发临时接种点",
            SiteKind::Temporary,
            temporary,
            weekdays(540, 1020),
            1,
        ),
        (
            "AQH",
            "爱琴海购物公园临时接种点",
            SiteKind::Temporary,
            temporary,
            every_day(600, 1200),
            2,
        ),
        (
            "P1699",
            "1699广场临时接种点",
            SiteKind::Temporary,
            temporary,
            every_day(600, 1200),
            1,
        ),
        (
            "VAN1",
            "流动接种车一号（华住集团）",
            SiteKind::Mobile,
            (None, None),
            weekdays(540, 960),
            1,
        ),
        (
            "VAN2",
            "流动接种车二号（光明乳业）",
            SiteKind::Mobile,
            (None, None),
            weekdays(540, 960),
            1,
        ),
        (
            "WPK",
            "虹桥商务区上门接种点",
            SiteKind::Workplace,
            (None, None),
            weekdays(570, 930),
            1,
        ),
    ]
}
