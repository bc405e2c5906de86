//! Importing people, on both backends: every kind of bad row in every encoding, idempotent
//! re-imports, updates, and files that cannot be read at all.

use chrono::NaiveDate;
use vaxloop_app::import::{Field, ImportError, ImportReport, Upload, import_people, load_report};
use vaxloop_core::{ResidentId, UnitKind, WorkGroupKind};
use vaxloop_documents::{Limits, ReadError, write_xlsx};
use vaxloop_store::org::{self, NewUnit, NewWorkGroup, Unit};
use vaxloop_store::testing::TestDb;
use vaxloop_store::{audit, now_ms, people};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
}

fn rid(seq: u16) -> String {
    ResidentId::compose(
        310112,
        NaiveDate::from_ymd_opt(1985, 3, 9).expect("date"),
        seq,
    )
    .as_str()
    .to_string()
}

async fn units(t: &TestDb) -> (Unit, Unit) {
    let mut tx = t.begin_write().await.expect("tx");
    let g = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: "GEN".into(),
            name: "企业组".into(),
            kind: WorkGroupKind::Enterprise,
            leader_name: None,
        },
        now_ms(),
    )
    .await
    .expect("group");
    let mut ids = Vec::new();
    for code in ["E001", "E002"] {
        let u = NewUnit {
            code: code.into(),
            work_group_id: g,
            name: format!("{code}公司"),
            kind: UnitKind::Enterprise,
            address: String::new(),
            lat: None,
            lon: None,
            target_headcount: 100,
            contact_name: None,
            contact_phone: None,
            reg_token: format!("tok{code}"),
        };
        ids.push(
            org::insert_unit(&mut tx, &t.cipher, &u, now_ms())
                .await
                .expect("unit"),
        );
    }
    tx.commit().await.expect("commit");
    (
        org::unit(t, ids[0]).await.expect("q").expect("unit"),
        org::unit(t, ids[1]).await.expect("q").expect("unit"),
    )
}

/// The roster with one of each kind of bad row; the comment gives the row number Excel shows.
fn roster_rows() -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec!["姓名", "身份证号", "手机号", "备注", "部门"];
    let mut x_id = rid(2);
    if !x_id.ends_with('X') {
        // Find a sequence whose check character is X, to test the lower-case x.
        x_id = (0..1000u16)
            .map(rid)
            .find(|i| i.ends_with('X'))
            .expect("an ID ending in X");
    }
    let rows = vec![
        vec![
            "张伟".into(),
            rid(11),
            "13800138000".into(),
            "".into(),
            "销售部".into(),
        ], // 2 ok, 部门 → note
        vec![
            "王芳".into(),
            x_id.to_lowercase(),
            "139 1234 5678".into(),
            "夜班".into(),
            "".into(),
        ], // 3 ok, lower-case x
        vec!["".into(), rid(13), "".into(), "".into(), "".into()], // 4 name required
        vec!["李娜".into(), "".into(), "".into(), "".into(), "".into()], // 5 id required
        vec![
            "刘洋".into(),
            "3101121985".into(),
            "".into(),
            "".into(),
            "".into(),
        ], // 6 id length
        vec![
            "陈静".into(),
            "31011219850309A011".into(),
            "".into(),
            "".into(),
            "".into(),
        ], // 7 characters
        vec![
            "杨勇".into(),
            "990112198503090011".into(),
            "".into(),
            "".into(),
            "".into(),
        ], // 8 province
        vec![
            "赵磊".into(),
            "310112198502300011".into(),
            "".into(),
            "".into(),
            "".into(),
        ], // 9 impossible date
        vec!["黄敏".into(), rid(15), "".into(), "".into(), "".into()], // 10 checksum, set below
        vec![
            "周杰".into(),
            rid(16),
            "021-64281234".into(),
            "".into(),
            "".into(),
        ], // 11 landline
        vec![
            "吴霞".into(),
            rid(17),
            "call me".into(),
            "".into(),
            "".into(),
        ], // 12 garbage phone
        vec![
            "张伟".into(),
            rid(11),
            "13800138000".into(),
            "".into(),
            "".into(),
        ], // 13 duplicate of row 2
        vec!["孙丽".into(), rid(19), "".into(), "".into(), "".into()], // 14 on another unit
        vec!["名".repeat(60), rid(20), "".into(), "".into(), "".into()], // 15 name too long
        vec![
            "马超".into(),
            rid(21),
            "+86 186 0000 1111".into(),
            "=HYPERLINK(1)".into(),
            "".into(),
        ], // 16 ok
    ];
    (header, rows)
}

fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut text = header.join(",");
    text.push('\n');
    for r in rows {
        text.push_str(
            &r.iter()
                .map(|c| {
                    if c.contains(',') {
                        format!("\"{c}\"")
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
        );
        text.push('\n');
    }
    text
}

/// The roster in every format a unit contact's spreadsheet program writes.
fn encodings() -> Vec<(&'static str, Vec<u8>)> {
    let (header, mut rows) = roster_rows();
    // Row 10: a wrong check character, computed so it differs from the right one.
    let good = rid(15);
    let wrong = if good.ends_with('1') { '2' } else { '1' };
    rows[8][1] = format!("{}{wrong}", &good[..17]);
    let text = csv_text(&header, &rows);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    vec![
        ("csv utf-8", text.clone().into_bytes()),
        ("csv utf-8 bom", bom),
        ("csv gb18030", gbk.into_owned()),
        ("xlsx", user_xlsx(&header, &rows)),
    ]
}

/// An XLSX file as a person's spreadsheet program writes it: values as typed, the phone column
/// as numbers where they are plain digits.
fn user_xlsx(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell.parse::<f64>() {
                Ok(n) if c == 2 && !cell.is_empty() => sheet.write_number(r, c, n).map(|_| ()),
                _ => sheet.write_string(r, c, cell.as_str()).map(|_| ()),
            }
            .expect("cell");
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn codes(report: &ImportReport) -> Vec<(usize, Field, &str)> {
    report
        .errors
        .iter()
        .map(|e| (e.row, e.field, e.code.as_str()))
        .collect()
}

vaxloop_store::backend_tests! {
    async fn every_kind_of_bad_row_is_reported_in_every_encoding(t) {
        let (ours, theirs) = units(&t).await;
        // 孙丽 is already on another unit's list.
        let (header, rows) = roster_rows();
        let other = csv_text(&header, &[rows[12].clone()]);
        import_people(&t, &t.cipher, &theirs, Upload { file_name: "roster.csv", bytes: other.as_bytes() }, &Limits::default(), today(), None).await.map(|i| i.report).expect("other unit");
        for (name, bytes) in encodings() {
            let report = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: &bytes }, &Limits::default(), today(), None).await.map(|i| i.report).expect(name);
            assert_eq!(report.rows, 15, "{name}");
            let expected = vec![
                (4, Field::Name, "required"),
                (5, Field::IdNumber, "required"),
                (6, Field::IdNumber, "id_length"),
                (7, Field::IdNumber, "id_characters"),
                (8, Field::IdNumber, "id_province"),
                (9, Field::IdNumber, "id_birth_date"),
                (10, Field::IdNumber, "id_checksum"),
                (11, Field::Phone, "phone_not_mobile"),
                (12, Field::Phone, "phone_invalid"),
                (13, Field::IdNumber, "duplicate_in_file"),
                (14, Field::IdNumber, "other_unit"),
                (15, Field::Name, "name_invalid"),
            ];
            assert_eq!(codes(&report), expected, "{name}");
            assert_eq!(report.rejected, 12, "{name}");
            assert!(report.errors.iter().any(|e| e.row == 13 && e.reason == "repeats row 2"));
            assert!(report.warnings.iter().any(|w| w.code == "kept_in_note" && w.column == "部门"), "{name}");
            // The first encoding stores three people; the others find them unchanged.
            let stored = report.imported + report.unchanged;
            assert_eq!(stored, 3, "{name}: {report:?}");
            let json = report.summary_json();
            let head = format!(
                "{{\"rows\":15,\"imported\":{},\"updated\":0,\"unchanged\":{},\"rejected\":12,\"errors\":[{{\"row\":4,\"field\":\"name\",\"reason\":\"is required\"}}",
                report.imported, report.unchanged
            );
            assert!(json.starts_with(&head), "{json}");
        }
        let roster = people::of_unit(&t, ours.id, 100, 0).await.expect("roster");
        assert_eq!(roster.len(), 3);
        let zhang = roster.iter().find(|p| p.name == "张伟").expect("张伟");
        assert_eq!(zhang.note.as_deref(), Some("部门: 销售部"));
        assert!(roster.iter().any(|p| p.name == "王芳"), "a lower-case x is accepted");
        let ma = roster.iter().find(|p| p.name == "马超").expect("马超");
        assert_eq!(ma.phone_masked.as_deref(), Some("186****1111"));
    }

    async fn importing_the_same_file_twice_changes_nothing_and_changes_are_updates(t) {
        let (ours, _) = units(&t).await;
        let header = ["name", "id_number", "phone"];
        let rows: Vec<Vec<String>> = (0..50).map(|i| vec![format!("员工{i}"), rid(100 + i), format!("1380013{:04}", i)]).collect();
        let text = csv_text(&header, &rows);
        let first = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: text.as_bytes() }, &Limits::default(), today(), None).await.map(|i| i.report).expect("first");
        assert_eq!((first.imported, first.updated, first.unchanged, first.rejected), (50, 0, 0, 0));
        let again = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: text.as_bytes() }, &Limits::default(), today(), None).await.map(|i| i.report).expect("again");
        assert_eq!((again.imported, again.updated, again.unchanged, again.rejected), (0, 0, 50, 0));
        let mut changed = rows.clone();
        changed[7][2] = "13900000000".into();
        changed[9][0] = "员工九".into();
        let text = csv_text(&header, &changed);
        let third = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: text.as_bytes() }, &Limits::default(), today(), None).await.map(|i| i.report).expect("changes");
        assert_eq!((third.imported, third.updated, third.unchanged), (0, 2, 48));
        // A roster without phones keeps the phones already known.
        let no_phone = csv_text(&["name", "id_number"], &rows.iter().map(|r| r[..2].to_vec()).collect::<Vec<_>>());
        let fourth = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: no_phone.as_bytes() }, &Limits::default(), today(), None).await.map(|i| i.report).expect("no phones");
        assert_eq!((fourth.updated, fourth.unchanged), (1, 49), "only the renamed person changes back");
        assert_eq!(people::count(&t).await.expect("count"), 50);
        let log = audit::recent(&t, 10).await.expect("audit");
        assert_eq!(log.iter().filter(|e| e.action == "import" && e.target == "unit:E001").count(), 4);
    }

    async fn files_that_cannot_be_read_are_refused_with_a_reason_and_nothing_is_stored(t) {
        let (ours, _) = units(&t).await;
        let no_id = "姓名,手机号\n张三,13800138000\n";
        match import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: no_id.as_bytes() }, &Limits::default(), today(), None).await.map(|i| i.report) {
            Err(ImportError::MissingColumns(missing)) => assert_eq!(missing, vec![Field::IdNumber]),
            other => panic!("expected a missing column, got {other:?}"),
        }
        let err = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: b"" }, &Limits::default(), today(), None).await.map(|i| i.report).expect_err("empty");
        assert!(matches!(err, ImportError::Read(ReadError::Empty)));
        let err = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: b"%PDF-1.4 binary" }, &Limits::default(), today(), None).await.map(|i| i.report).expect_err("pdf");
        assert_eq!(err.to_string(), "the file is neither an XLSX workbook nor a CSV text file");
        let limits = Limits { max_rows: 2, ..Limits::default() };
        let three = format!("name,id_number\na,{}\nb,{}\nc,{}\n", rid(1), rid(3), rid(5));
        let err = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: three.as_bytes() }, &limits, today(), None).await.map(|i| i.report).expect_err("rows");
        assert_eq!(err.to_string(), "the file has more than 2 data rows");
        assert_eq!(people::count(&t).await.expect("count"), 0);
    }

    async fn the_rejected_rows_come_back_as_a_spreadsheet_with_reasons(t) {
        let (ours, _) = units(&t).await;
        let text = format!("姓名,身份证号,手机号\n好人,{},13800138000\n,{},\n坏号,123,=1+2\n", rid(40), rid(41));
        let imported = import_people(&t, &t.cipher, &ours, Upload { file_name: "roster.csv", bytes: text.as_bytes() }, &Limits::default(), today(), None).await.expect("import");
        let report = load_report(&t, &t.cipher, imported.id).await.expect("stored report");
        assert_eq!(report, imported.report, "the sealed report reads back whole");
        let sheet = report.rejected_sheet("行号 row", "原因 reason", |e| e.reason.clone());
        assert_eq!(sheet.headers, vec!["行号 row", "姓名", "身份证号", "手机号", "原因 reason"]);
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[0][0], "3");
        assert_eq!(sheet.rows[0][4], "name: is required");
        assert_eq!(sheet.rows[1][0], "4");
        assert!(sheet.rows[1][4].starts_with("id_number: must be 18 characters"), "{}", sheet.rows[1][4]);
        let bytes = write_xlsx(&[sheet]).expect("xlsx");
        assert!(bytes.starts_with(b"PK"));
    }
}
