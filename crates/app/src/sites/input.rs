//! A site as typed into its form: its kind, the dates a temporary site is open, its daily hours,
//! and each zone's space, desks per shift and mean service time — the figures slot capacities
//! are computed from — each field checked and named when it is wrong.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime, Timelike};
use vaxloop_core::{SiteKind, ZoneKind};
use vaxloop_store::sites::{self, NewSite, NewZone};

use crate::error::{Problem, problem};
use crate::org::{check_code, check_name};

/// A site as typed into the form: every field by name, so the form can be shown again as typed.
/// Zone fields are `{zone}_space`, `{zone}_am`, `{zone}_pm` and `{zone}_seconds`; weekdays
/// `day0` (Monday) to `day6`, present when ticked.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct SiteInput(pub HashMap<String, String>);

impl SiteInput {
    /// A field as typed, or empty.
    pub fn v(&self, field: &str) -> &str {
        self.0.get(field).map(|s| s.trim()).unwrap_or("")
    }

    /// Whether a checkbox was ticked.
    pub fn ticked(&self, field: &str) -> bool {
        !self.v(field).is_empty()
    }

    /// The form a new site starts from: open every day 08:00–17:00, a modest fixed site.
    pub fn starting() -> Self {
        let mut m: HashMap<String, String> = HashMap::new();
        m.insert("kind".into(), "fixed".into());
        m.insert("opens".into(), "08:00".into());
        m.insert("closes".into(), "17:00".into());
        for d in 0..7 {
            m.insert(format!("day{d}"), "on".into());
        }
        for (zone, space, desks, seconds) in [
            (ZoneKind::Waiting, 60, 3, 60),
            (ZoneKind::Screening, 20, 3, 90),
            (ZoneKind::Vaccination, 20, 4, 120),
            (ZoneKind::Observation, 80, 2, 30),
        ] {
            let k = zone.as_str();
            m.insert(format!("{k}_space"), space.to_string());
            m.insert(format!("{k}_am"), desks.to_string());
            m.insert(format!("{k}_pm"), desks.to_string());
            m.insert(format!("{k}_seconds"), seconds.to_string());
        }
        SiteInput(m)
    }

    /// The form for an existing site, filled in as it is now.
    pub fn of_site(site: &sites::Site, hours: &[(i64, i64, i64)], zones: &[sites::Zone]) -> Self {
        let mut m: HashMap<String, String> = HashMap::new();
        m.insert("code".into(), site.code.clone());
        m.insert("name".into(), site.name.clone());
        m.insert("kind".into(), site.kind.as_str().into());
        m.insert("address".into(), site.address.clone());
        m.insert(
            "open_from".into(),
            site.open_from.clone().unwrap_or_default(),
        );
        m.insert(
            "open_until".into(),
            site.open_until.clone().unwrap_or_default(),
        );
        let hhmm = |t: i64| format!("{:02}:{:02}", t / 60, t % 60);
        if let Some(&(_, opens, closes)) = hours.first() {
            m.insert("opens".into(), hhmm(opens));
            m.insert("closes".into(), hhmm(closes));
        }
        for &(d, opens, closes) in hours {
            m.insert(format!("day{d}"), "on".into());
            // Days whose hours differ from the first open day's carry their own.
            if hours
                .first()
                .is_some_and(|&(_, o, c)| (o, c) != (opens, closes))
            {
                m.insert(format!("opens_d{d}"), hhmm(opens));
                m.insert(format!("closes_d{d}"), hhmm(closes));
            }
        }
        if let (Some(lat), Some(lon)) = (site.lat, site.lon) {
            m.insert("lat".into(), format!("{lat:.6}"));
            m.insert("lon".into(), format!("{lon:.6}"));
        }
        for z in zones {
            let k = z.kind.as_str();
            m.insert(format!("{k}_space"), z.space.to_string());
            m.insert(format!("{k}_am"), z.desks_am.to_string());
            m.insert(format!("{k}_pm"), z.desks_pm.to_string());
            m.insert(format!("{k}_seconds"), z.mean_service_seconds.to_string());
        }
        SiteInput(m)
    }

    fn date(&self, field: &'static str, problems: &mut Vec<Problem>) -> Option<NaiveDate> {
        let v = self.v(field);
        if v.is_empty() {
            return None;
        }
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| problems.push(problem(field, "date_invalid")))
            .ok()
    }

    fn minutes(&self, field: &'static str, problems: &mut Vec<Problem>) -> Option<i64> {
        match NaiveTime::parse_from_str(self.v(field), "%H:%M") {
            Ok(t) => Some(i64::from(t.hour() * 60 + t.minute())),
            Err(_) => {
                problems.push(problem(field, "time_invalid"));
                None
            }
        }
    }

    /// The site's map position in decimal degrees (WGS-84, as a phone's map shows it): both
    /// or neither.
    fn position(&self, problems: &mut Vec<Problem>) -> Option<(f64, f64)> {
        let (lat, lon) = (self.v("lat"), self.v("lon"));
        if lat.is_empty() && lon.is_empty() {
            return None;
        }
        let read = |v: &str, limit: f64| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= limit)
        };
        let lat = read(lat, 90.0).or_else(|| {
            problems.push(problem("lat", "position_invalid"));
            None
        });
        let lon = read(lon, 180.0).or_else(|| {
            problems.push(problem("lon", "position_invalid"));
            None
        });
        lat.zip(lon)
    }

    fn number(
        &self,
        field: &'static str,
        range: std::ops::RangeInclusive<i64>,
        problems: &mut Vec<Problem>,
    ) -> i64 {
        match self.v(field).parse::<i64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                problems.push(problem(field, "number_invalid"));
                0
            }
        }
    }

    /// Checks every field, naming each one that is wrong.
    pub fn parse(&self) -> Result<NewSite, Vec<Problem>> {
        let mut problems = Vec::new();
        let code = self.v("code");
        check_code(code, &mut problems);
        check_name(self.v("name"), &mut problems);
        let kind = self
            .v("kind")
            .parse::<SiteKind>()
            .map_err(|_| problems.push(problem("kind", "kind_invalid")))
            .ok();
        let address = self.v("address");
        if address.chars().count() > 200 || address.chars().any(char::is_control) {
            problems.push(problem("address", "name_invalid"));
        }
        let from = self.date("open_from", &mut problems);
        let until = self.date("open_until", &mut problems);
        if kind == Some(SiteKind::Temporary) {
            if self.v("open_from").is_empty() {
                problems.push(problem("open_from", "dates_required"));
            }
            if self.v("open_until").is_empty() {
                problems.push(problem("open_until", "dates_required"));
            }
        }
        if let (Some(f), Some(u)) = (from, until)
            && f > u
        {
            problems.push(problem("open_until", "dates_order"));
        }
        let opens = self.minutes("opens", &mut problems);
        let closes = self.minutes("closes", &mut problems);
        if let (Some(o), Some(c)) = (opens, closes)
            && o >= c
        {
            problems.push(problem("closes", "hours_order"));
        }
        const DAYS: [&str; 7] = ["day0", "day1", "day2", "day3", "day4", "day5", "day6"];
        const OPENS: [&str; 7] = [
            "opens_d0", "opens_d1", "opens_d2", "opens_d3", "opens_d4", "opens_d5", "opens_d6",
        ];
        const CLOSES: [&str; 7] = [
            "closes_d0",
            "closes_d1",
            "closes_d2",
            "closes_d3",
            "closes_d4",
            "closes_d5",
            "closes_d6",
        ];
        let mut hours = Vec::new();
        for d in 0..7 {
            if !self.ticked(DAYS[d]) {
                continue;
            }
            // A day may have hours of its own; both times, in order, or neither.
            let own = !self.v(OPENS[d]).is_empty() || !self.v(CLOSES[d]).is_empty();
            let (o, c) = if own {
                let o = self.minutes(OPENS[d], &mut problems);
                let c = self.minutes(CLOSES[d], &mut problems);
                if let (Some(o), Some(c)) = (o, c)
                    && o >= c
                {
                    problems.push(problem(CLOSES[d], "hours_order"));
                }
                (o, c)
            } else {
                (opens, closes)
            };
            hours.push((d as i64, o.unwrap_or(0), c.unwrap_or(0)));
        }
        if hours.is_empty() {
            problems.push(problem("days", "days_required"));
        }
        let position = self.position(&mut problems);
        let mut zones = Vec::new();
        for (&kind, f) in ZoneKind::ALL.iter().zip(ZONE_FIELDS.chunks(4)) {
            let zone = NewZone {
                kind,
                space: self.number(f[0], 0..=100_000, &mut problems),
                desks_am: self.number(f[1], 0..=500, &mut problems),
                desks_pm: self.number(f[2], 0..=500, &mut problems),
                mean_service_seconds: self.number(f[3], 5..=7_200, &mut problems),
            };
            if kind == ZoneKind::Vaccination && zone.desks_am + zone.desks_pm == 0 {
                problems.push(problem("vaccination_am", "desks_required"));
            }
            zones.push(zone);
        }
        match kind {
            Some(kind) if problems.is_empty() => Ok(NewSite {
                code: code.to_string(),
                name: self.v("name").to_string(),
                kind,
                address: address.to_string(),
                lat: position.map(|p| p.0),
                lon: position.map(|p| p.1),
                open_from: from.map(|d| d.to_string()),
                open_until: until.map(|d| d.to_string()),
                hours,
                zones,
            }),
            _ => Err(problems),
        }
    }
}

/// Every zone field, four per zone in the order of `ZoneKind::ALL`, so that a problem can name
/// its field with a `'static` string.
const ZONE_FIELDS: [&str; 16] = [
    "waiting_space",
    "waiting_am",
    "waiting_pm",
    "waiting_seconds",
    "screening_space",
    "screening_am",
    "screening_pm",
    "screening_seconds",
    "vaccination_space",
    "vaccination_am",
    "vaccination_pm",
    "vaccination_seconds",
    "observation_space",
    "observation_am",
    "observation_pm",
    "observation_seconds",
];
