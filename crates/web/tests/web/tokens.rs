//! API tokens for machine clients: made and revoked by the admin only, shown once, stored hashed,
//! bound to a role and scope like a login, sent as `Authorization: Bearer`, free of CSRF,
//! rate-limited and audited.

use axum::http::{Request, StatusCode, header};
use vaxloop_demo::DEMO_PASSWORD;

use crate::{Client, fixture};

/// The token on the page that answered its creation.
fn issued(body: &str) -> String {
    let marker = "id=\"new-token\" class=\"secret\">";
    let start = body.find(marker).expect("the new token") + marker.len();
    body[start..].chars().take_while(|c| *c != '<').collect()
}

async fn with_token(
    client: &mut Client,
    method: &str,
    path: &str,
    token: &str,
    json: &str,
) -> crate::client::Response {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    client.send_raw(builder, json.to_string()).await
}

vaxloop_store::backend_tests! {
    async fn an_admin_made_token_acts_as_its_role_and_scope_until_revoked(t) {
        let f = fixture(t).await;
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let page = admin.get("/admin/tokens").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();

        // Bad input is named by field; nothing is made.
        let bad = admin.post_form("/admin/tokens", &[("csrf_token", &csrf), ("name", "Bad Name!"), ("role", "admin"), ("scope", ""), ("post", ""), ("days", "9999")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("id=\"name-error\""), "{}", bad.body);
        assert!(!bad.body.contains("id=\"new-token\""));
        let scope = admin.post_form("/admin/tokens", &[("csrf_token", &csrf), ("name", "x-reader"), ("role", "site_staff"), ("scope", "NOPE"), ("post", "check_in"), ("days", "")]).await;
        assert!(scope.body.contains("id=\"scope-error\""), "{}", scope.body);

        // The HCL manager's token (a site dashboard): shown once, stored only as a hash.
        let made = admin.post_form("/admin/tokens", &[("csrf_token", &csrf), ("name", "hcl-kiosk"), ("role", "site_staff"), ("scope", "HCL"), ("post", "manager"), ("days", "30")]).await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.body);
        let token = issued(&made.body);
        assert!(token.starts_with("vxl_") && token.len() == 68, "{token}");
        let list = admin.get("/admin/tokens").await;
        assert!(list.body.contains("hcl-kiosk") && !list.body.contains(&token), "the list never shows it again");
        let mut tx = f.db.begin_write().await.expect("tx");
        let rows: Vec<(Vec<u8>, String)> = sqlx::query_as("SELECT token_hash, prefix FROM api_tokens").fetch_all(&mut *tx).await.expect("rows");
        drop(tx);
        assert_eq!(rows.len(), 1);
        assert!(!String::from_utf8_lossy(&rows[0].0).contains(&token[4..]) && token.starts_with(&rows[0].1));
        // The token's login is no name to log in with.
        let mut guess = f.client();
        assert!(guess.login("api:hcl-kiosk", "anything").await.body.contains("login"), "refused like an unknown name");

        // A machine client: no cookie, no CSRF token.
        let mut kiosk = f.client();
        let me = with_token(&mut kiosk, "GET", "/api/v1/me", &token, "").await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert!(me.body.contains("\"role\":\"site_staff\""), "{}", me.body);
        assert!(!kiosk.has_cookie("vaxloop_session"), "a token starts no session");
        assert_eq!(with_token(&mut kiosk, "GET", "/api/v1/sites/HCL/board", &token, "").await.status, StatusCode::OK);
        assert_eq!(with_token(&mut kiosk, "GET", "/api/v1/sites/HQC/board", &token, "").await.status, StatusCode::FORBIDDEN, "its scope is its site");
        let people = format!("/api/v1/units/{}/people", f.town.units[0].code);
        assert_eq!(with_token(&mut kiosk, "GET", &people, &token, "").await.status, StatusCode::FORBIDDEN, "and its role");
        // An unsafe method goes through without a CSRF token — and is checked like the post's.
        let checkin = with_token(&mut kiosk, "POST", "/api/v1/sites/HCL/checkins", &token, r#"{"code":"not-a-code"}"#).await;
        assert_ne!(checkin.status, StatusCode::FORBIDDEN, "no CSRF refusal: {}", checkin.body);
        assert!(checkin.status.is_client_error(), "{}", checkin.body);
        // The same call with a session and no CSRF token is refused.
        let mut nurse = f.client();
        nurse.login("hcl.checkin", DEMO_PASSWORD).await;
        assert_eq!(nurse.post_json("/api/v1/sites/HCL/checkins", r#"{"code":"not-a-code"}"#, None).await.status, StatusCode::FORBIDDEN);
        // Pages do not read the header.
        let builder = Request::get("/site").header(header::AUTHORIZATION, format!("Bearer {token}"));
        assert_ne!(kiosk.send_raw(builder, String::new()).await.status, StatusCode::OK, "the token opens the API only");

        // Someone else's or a made-up token: 401, saying how to authenticate.
        let wrong = with_token(&mut kiosk, "GET", "/api/v1/me", &format!("vxl_{}", "0".repeat(64)), "").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("\"error\":\"invalid_token\""), "{}", wrong.body);
        assert!(wrong.headers.get(header::WWW_AUTHENTICATE).is_some());

        // Only the admin makes or revokes tokens.
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        assert_eq!(desk.get("/admin/tokens").await.status, StatusCode::FORBIDDEN);
        let desk_csrf = desk.get("/desk").await.csrf();
        assert_eq!(desk.post_form("/admin/tokens", &[("csrf_token", &desk_csrf), ("name", "mine"), ("role", "desk")]).await.status, StatusCode::FORBIDDEN);
        assert_eq!(desk.post_form("/admin/tokens/hcl-kiosk/revoke", &[("csrf_token", &desk_csrf)]).await.status, StatusCode::FORBIDDEN);
        // A token cannot make tokens either (they are the admin's, on pages).
        assert_ne!(with_token(&mut kiosk, "POST", "/admin/tokens", &token, "").await.status, StatusCode::OK);

        // Revoked: refused from the next request, and the attempt is audited.
        let revoked = admin.post_form("/admin/tokens/hcl-kiosk/revoke", &[("csrf_token", &csrf)]).await;
        assert_eq!(revoked.location(), "/admin/tokens?revoked=hcl-kiosk");
        assert_eq!(with_token(&mut kiosk, "GET", "/api/v1/me", &token, "").await.status, StatusCode::UNAUTHORIZED);
        // Expired: the same.
        let dash = admin.post_form("/admin/tokens", &[("csrf_token", &csrf), ("name", "district"), ("role", "staff"), ("scope", ""), ("post", ""), ("days", "")]).await;
        let dash = issued(&dash.body);
        assert_eq!(with_token(&mut kiosk, "GET", "/api/v1/me", &dash, "").await.status, StatusCode::OK);
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE api_tokens SET expires_at = created_at + 1 WHERE name = 'district'").execute(&mut *tx).await.expect("expire");
        tx.commit().await.expect("commit");
        assert_eq!(with_token(&mut kiosk, "GET", "/api/v1/me", &dash, "").await.status, StatusCode::UNAUTHORIZED);
        assert!(admin.get("/admin/tokens").await.body.contains("已过期"));
        let audit = admin.get("/admin/audit").await;
        for action in ["创建 API 令牌", "吊销 API 令牌", "使用 API 令牌"] {
            assert!(audit.body.contains(action), "{action} audited");
        }
    }

    async fn guessing_tokens_is_throttled_like_passwords(t) {
        let f = fixture(t).await;
        let mut guesser = f.client();
        let mut statuses = Vec::new();
        for i in 0..70 {
            let token = format!("vxl_{i:064}");
            statuses.push(with_token(&mut guesser, "GET", "/api/v1/me", &token, "").await);
        }
        assert!(statuses[..60].iter().all(|r| r.status == StatusCode::UNAUTHORIZED));
        let last = statuses.last().expect("answers");
        assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.body);
        assert!(last.headers.get(header::RETRY_AFTER).is_some(), "says when to try again");
        assert!(last.body.contains("\"error\":\"too_many_requests\""), "{}", last.body);
    }
}
