//! Static files compiled into the binary (htmx, the stylesheet): no CDN, so site tablets work on
//! a closed network.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::AppError;

#[derive(rust_embed::RustEmbed)]
#[folder = "static/"]
struct Assets;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/{*path}", get(asset))
        // Browsers ask for it whatever the page says.
        .route(
            "/favicon.ico",
            get(|| asset(Path("favicon.svg".to_string()))),
        )
}

async fn asset(Path(path): Path<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return AppError::NotFound.into_response();
    };
    let mime = match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        file.data,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    /// The stylesheet's team label classes match the colours the forms print.
    #[test]
    fn the_label_colours_in_the_stylesheet_are_the_printed_ones() {
        let name = "app.css";
        let css = super::Assets::get(name).expect("the stylesheet");
        let css = String::from_utf8_lossy(&css.data);
        for (i, (_, _, [r, g, b])) in vaxloop_core::labels::COLOURS.iter().enumerate() {
            let label = vaxloop_core::Label {
                colour: i as u8,
                number: 1,
            };
            let text = if label.dark_text() { "#111" } else { "#fff" };
            let rule =
                format!(".label-c{i} {{ background: #{r:02x}{g:02x}{b:02x}; color: {text}; }}");
            assert!(css.contains(&rule), "missing: {rule}");
        }
    }
}
