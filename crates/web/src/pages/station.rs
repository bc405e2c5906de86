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
