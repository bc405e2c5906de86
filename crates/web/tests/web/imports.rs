//! Importing people on the web: the unit contact's upload, the report in Chinese, the rejected
//! rows' spreadsheet (an audited export) — and nobody else's unit.

use axum::http::StatusCode;
use chrono::NaiveDate;
use vaxloop_core::{ResidentId, Role};
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::audit;

use crate::fixture;

fn rid(seq: u16) -> String {
    ResidentId::compose(
        310112,
        NaiveDate::from_ymd_opt(1977, 7, 7).expect("date"),
        seq,
    )
    .as_str()
    .to_string()
}

vaxloop_store::backend_tests! {
    async fn a_unit_contact_imports_a_roster_and_reads_the_report(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let unit = f.town.units[contact.unit.expect("unit")].clone();
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let unit_page = c.get(&format!("/units/{}", unit.code)).await;
        assert!(unit_page.body.contains("id=\"import-link\""));
        let form = c.get(&format!("/units/{}/import", unit.code)).await;
        assert_eq!(form.status, StatusCode::OK);
        let marker = "?csrf_token=";
        let start = form.body.find(marker).expect("the form's action carries the token") + marker.len();
        let token = form.body[start..start + 64].to_string();
        let action = format!("/units/{}/import?csrf_token={token}", unit.code);

        let wrong = format!("{}{}", &rid(2)[..17], if rid(2).ends_with('1') { '2' } else { '1' });
        let csv = format!("姓名,身份证号,手机号\n甲,{},13800138000\n乙,{wrong},\n丙,{},021-12345678\n", rid(1), rid(3));
        let done = c.post_file(&action, "名单.csv", csv.as_bytes()).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let report_path = done.location().to_string();
        assert!(report_path.starts_with("/imports/"));
        let report = c.get(&report_path).await;
        assert_eq!(report.status, StatusCode::OK);
        assert!(report.body.contains("名单.csv"));
        assert!(report.body.contains("校验位应为"), "translated reason: {}", report.body);
        assert!(report.body.contains("不是中国大陆手机号"));
        assert!(!report.body.contains(&wrong), "the page names rows, not ID numbers");
        let xlsx = c.get(&format!("{report_path}/rejected.xlsx")).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert_eq!(
            xlsx.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        let log = audit::recent(&f.db, 20).await.expect("audit");
        assert!(log.iter().any(|e| e.action == "import" && e.target == format!("unit:{}", unit.code)));
        assert!(log.iter().any(|e| e.action == "export" && e.target.contains(&unit.code)), "the download is audited");

        // The same form without its token is refused; a file without the required columns is
        // answered with the columns it lacks.
        let no_token = c.post_file(&format!("/units/{}/import", unit.code), "x.csv", csv.as_bytes()).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let missing = c.post_file(&action, "x.csv", "姓名,电话\n甲,1\n".as_bytes()).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        assert!(missing.body.contains("缺少必填列：身份证号"), "{}", missing.body);
        let pdf = c.post_file(&action, "x.pdf", b"%PDF-1.4").await;
        assert!(pdf.body.contains("只支持 Excel"));

        // The unit's group leader may read the report but not unmask: the rejected rows come
        // with their ID and phone cells masked, and the download says so in the audit log.
        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader && l.group == Some(f.town.units[contact.unit.expect("unit")].group)).expect("the unit's leader").clone();
        let mut g = f.client();
        g.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let masked = g.get(&format!("{report_path}/rejected.xlsx")).await;
        assert_eq!(masked.status, StatusCode::OK);
        let cells = read_cells(&masked.bytes);
        assert!(!cells.contains(&wrong), "no raw ID number for the leader: {cells:?}");
        assert!(cells.iter().any(|c| c.starts_with(&wrong[..3]) && c.contains('*')), "{cells:?}");
        assert!(read_cells(&xlsx.bytes).contains(&wrong), "the contact, who may unmask, gets the cell as typed");
        let log = audit::recent(&f.db, 5).await.expect("audit");
        assert!(log.iter().any(|e| e.action == "export" && e.detail.as_deref().is_some_and(|d| d.contains("masked"))));

        // Another unit's contact sees none of it, by page, download or upload.
        let other_contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact && l.unit.map(|u| f.town.units[u].code.clone()) != Some(unit.code.clone())).expect("another contact").clone();
        let mut o = f.client();
        o.login(other_contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(o.get(&report_path).await.status, StatusCode::FORBIDDEN);
        assert_eq!(o.get(&format!("{report_path}/rejected.xlsx")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(o.get(&format!("/units/{}/import", unit.code)).await.status, StatusCode::FORBIDDEN);
        let their_token = o.get(&format!("/units/{}", f.town.units[other_contact.unit.expect("unit")].code)).await.csrf();
        let cross = o.post_file(&format!("/units/{}/import?csrf_token={their_token}", unit.code), "x.csv", csv.as_bytes()).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN, "no importing into another unit");
        assert_eq!(o.get("/imports/999999").await.status, StatusCode::FORBIDDEN, "guessed ids answer like forbidden ones");
    }

    async fn hostile_and_large_uploads_get_a_named_answer_and_the_server_stays_up(t) {
        let f = fixture(t).await;
        let (mut c, action) = contact_at_the_form(&f).await;
        // One cell at XFD1048576: a 5 KB workbook a dense reader would blow up to 512 GiB.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").expect("a1");
        sheet.write_string(0, 1, "身份证号").expect("b1");
        sheet.write_string(1_048_575, 16_383, "x").expect("corner");
        let corner = book.save_to_buffer().expect("xlsx");
        assert!(corner.len() < 10_000);
        let refused = c.post_file(&action, "corner.xlsx", &corner).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.body.contains("第1048576行的XFD列有内容"), "{}", refused.body);
        // A file over the framework's 2 MB default but within the configured 20 MB goes through
        // to the report (its over-long notes are rejected there, by row and field).
        let note = "备".repeat(400_000);
        let csv = format!("姓名,身份证号,备注\n甲,{},{note}\n乙,{},{note}\n", rid(1), rid(3));
        assert!(csv.len() > 2 * 1024 * 1024);
        let big = c.post_file(&action, "big.csv", csv.as_bytes()).await;
        assert_eq!(big.status, StatusCode::SEE_OTHER, "{}", big.body);
        assert_eq!(c.get(big.location()).await.status, StatusCode::OK, "the server is still up");
    }

    async fn an_upload_over_the_configured_limit_is_refused_on_the_form(t) {
        let config = vaxloop_web::WebConfig {
            upload_limit_bytes: 1024 * 1024,
            ..crate::client::test_config()
        };
        let f = crate::client::fixture_with(t, config).await;
        let (mut c, action) = contact_at_the_form(&f).await;
        let form = c.get(&action[..action.find('?').expect("query")]).await;
        assert!(form.body.contains("1 MB"), "the form announces the configured limit: {}", form.body);
        let csv = format!("姓名,身份证号,备注\n甲,{},{}\n", rid(1), "x".repeat(1_500_000));
        let refused = c.post_file(&action, "big.csv", csv.as_bytes()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.body.contains("文件超过1 MB"), "{}", refused.body);
    }
}

/// Every cell of a workbook's first sheet, as text.
fn read_cells(bytes: &[u8]) -> Vec<String> {
    #[derive(Default)]
    struct All(Vec<String>);
    impl vaxloop_documents::RowSink for All {
        fn header(&mut self, cells: &[&str]) -> Result<(), vaxloop_documents::ReadError> {
            self.0.extend(cells.iter().map(|c| c.to_string()));
            Ok(())
        }
        fn row(&mut self, _: usize, cells: &[&str]) -> Result<(), vaxloop_documents::ReadError> {
            self.0.extend(cells.iter().map(|c| c.to_string()));
            Ok(())
        }
    }
    let mut all = All::default();
    vaxloop_documents::read_rows(bytes, &vaxloop_documents::Limits::default(), &mut all)
        .expect("xlsx");
    all.0
}

/// A unit contact logged in, and their import form's action (with its token).
async fn contact_at_the_form(f: &crate::client::Fixture) -> (crate::client::Client, String) {
    let contact = f
        .town
        .logins
        .iter()
        .find(|l| l.role == Role::UnitContact)
        .expect("contact")
        .clone();
    let unit = f.town.units[contact.unit.expect("unit")].clone();
    let mut c = f.client();
    c.login(
        contact.username.as_deref().expect("username"),
        DEMO_PASSWORD,
    )
    .await;
    let form = c.get(&format!("/units/{}/import", unit.code)).await;
    (
        c,
        format!("/units/{}/import?csrf_token={}", unit.code, form.csrf()),
    )
}
