//! What a team's printed papers say.

use chrono::{Datelike, NaiveDate};
use vaxloop_store::{Db, StoreResult};

use super::publish::BusTrip;
use vaxloop_core::hhmm;

/// A team's printed papers: its registration form and its sheet of colour labels.
#[derive(Debug, Clone)]
pub struct TeamPapers {
    pub form: vaxloop_documents::team_forms::TeamForm,
    pub site: String,
    /// "2026-12-02 09:00".
    pub when: String,
}

/// What a team's papers say, from its booking: the unit, the label, the site, the day and the
/// hours its slots span, and its members with masked ID numbers and presence codes. `footer` is printed at the foot.
pub async fn team_papers(
    db: &Db,
    cipher: &vaxloop_store::PiiCipher,
    team: &vaxloop_store::teams::TeamRow,
    footer: String,
) -> StoreResult<TeamPapers> {
    use vaxloop_documents::team_forms::{PrintedLabel, TeamForm};
    let members = vaxloop_store::teams::roster(db, team.id).await?;
    let site = vaxloop_store::sites::by_id(db, team.site_id).await?;
    let (site_name, address) = site
        .map(|s| (s.name, s.address))
        .unwrap_or_else(|| (team.site_code.clone(), String::new()));
    let from = members.iter().map(|m| m.starts_min).min().unwrap_or(0);
    let to = members.iter().map(|m| m.ends_min).max().unwrap_or(from);
    let weekday = NaiveDate::parse_from_str(&team.day, "%Y-%m-%d")
        .map(|d| {
            [
                "星期一",
                "星期二",
                "星期三",
                "星期四",
                "星期五",
                "星期六",
                "星期日",
            ][d.weekday().num_days_from_monday() as usize]
        })
        .unwrap_or("");
    let label = vaxloop_core::Label::from_stored(team.colour, team.number);
    let form = TeamForm {
        unit: team.unit_name.clone(),
        label: PrintedLabel {
            zh: label.zh(),
            en: label.en(),
            rgb: label.rgb(),
            dark_text: label.dark_text(),
        },
        site: site_name.clone(),
        site_address: address,
        date: format!("{} {weekday}", team.day),
        time: format!("{}–{}", hhmm(from), hhmm(to)),
        pickup: pickup(team, db).await?,
        members: members
            .into_iter()
            .map(|m| {
                let code = cipher.presence_code(m.appointment_id);
                (m.name, m.id_masked, code)
            })
            .collect(),
        footer,
    };
    Ok(TeamPapers {
        form,
        site: site_name,
        when: format!("{} {}", team.day, hhmm(from)),
    })
}

/// Where and when the shuttle picks a team up, as printed: "村委会 07:40（3号车 30人）、…".
async fn pickup(team: &vaxloop_store::teams::TeamRow, db: &Db) -> StoreResult<Option<String>> {
    let Some(trips) = team
        .trips
        .as_deref()
        .and_then(|j| serde_json::from_str::<Vec<BusTrip>>(j).ok())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let place = vaxloop_store::org::unit(db, team.unit_id)
        .await?
        .map(|u| {
            if u.address.is_empty() {
                u.name
            } else {
                u.address
            }
        })
        .unwrap_or_default();
    let trips: Vec<String> = trips
        .iter()
        .map(|t| format!("{}（{}号车 {}人）", hhmm(t.departs_min), t.bus, t.people))
        .collect();
    Ok(Some(format!("{place} {}", trips.join("、"))))
}

/// The team with code `code` and its papers, when the caller may see its unit (the desk and the
/// admin any team's, a group's leader its units', a unit's contact their own): the print is
/// audited, since the form lists people. Unknown and forbidden look the same from outside.
pub async fn print_team(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
) -> crate::Result<(vaxloop_store::teams::TeamRow, TeamPapers)> {
    let team = vaxloop_store::teams::by_code(app.db(), code).await?;
    let unit = match &team {
        Some(t) => vaxloop_store::org::unit(app.db(), t.unit_id).await?,
        None => None,
    };
    crate::scope::check_thing(app, caller, &unit, crate::scope::can_see_unit).await?;
    let team = team.ok_or(crate::Error::NotFound)?;
    let now = chrono::DateTime::from_timestamp_millis(vaxloop_store::now_ms())
        .map(|t| {
            t.with_timezone(&app.tz())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let by = caller
        .actor()
        .map(|a| a.display_name.clone())
        .unwrap_or_default();
    let footer = format!("打印 printed {now} · {by}");
    let papers = team_papers(app.db(), app.cipher(), &team, footer).await?;
    let target = format!("team:{}", team.code);
    let detail = format!("rows={}", papers.form.members.len());
    let mut tx = app.db().begin_write().await?;
    crate::audit::write(
        &mut tx,
        caller,
        crate::audit::Act::new("print", &target).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok((team, papers))
}
