//! What the four station pages share: the station itself, asked of the application once per
//! request, and screening's notes in the reader's language.

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::Page;
use crate::i18n::Lang;

/// The station `post` at site `code`, when the caller works it there (or manages the site, or is
/// the admin); otherwise a denial, audited with the page asked for.
pub(crate) async fn station_of(
    state: &AppState,
    page: &Page,
    code: &str,
    post: vaxloop_core::SitePost,
) -> AppResult<vaxloop_app::stations::Station> {
    Ok(vaxloop_app::stations::station(&state.app, &page.caller(), code, post).await?)
}

/// What screening noted for each visit (the questions answered "yes"), in the reader's
/// language: shown to the vaccinator and the observation nurse.
pub(crate) fn screening_notes(
    lang: Lang,
    notes: vaxloop_app::stations::Notes,
) -> std::collections::HashMap<i64, Vec<String>> {
    notes
        .into_iter()
        .map(|(visit, qs)| {
            let texts = qs
                .iter()
                .map(|q| q.text(lang == Lang::En).to_string())
                .collect();
            (visit, texts)
        })
        .collect()
}

/// One tab of the station strip at the top of a station's page.
pub(crate) struct Tab {
    pub href: String,
    pub label: String,
    /// The caller may open it (otherwise it is shown, as the flow's next step, but not linked).
    pub open: bool,
    pub current: bool,
}

/// The site's stations in the flow's order, the one shown marked, then the board and the day
/// for those who watch them: every other station one tap away.
pub(crate) fn tabs(
    lang: Lang,
    station: &vaxloop_app::stations::Station,
    current: vaxloop_core::SitePost,
) -> Vec<Tab> {
    use vaxloop_core::SitePost;
    let code = &station.site().code;
    let (posts, watches) = station.flow();
    let mut tabs: Vec<Tab> = posts
        .into_iter()
        .map(|(post, open)| {
            let (path, key) = match post {
                SitePost::CheckIn => ("checkin", "checkin.title"),
                SitePost::Screening => ("screening", "screening.title"),
                SitePost::Vaccinator => ("vaccination", "vaccination.title"),
                _ => ("observation", "observation.title"),
            };
            Tab {
                href: format!("/sites/{code}/{path}"),
                label: lang.t(key),
                open,
                current: post == current,
            }
        })
        .collect();
    if watches {
        for (path, key) in [("board", "board.title"), ("day", "day.title")] {
            tabs.push(Tab {
                href: format!("/sites/{code}/{path}"),
                label: lang.t(key),
                open: true,
                current: false,
            });
        }
    }
    tabs
}
