//! Writing a generated town through the store, in one transaction.

use std::time::Instant;

use chrono::{Days, NaiveTime};
use vaxloop_core::{Source, password};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::users::NewUser;
use vaxloop_store::vaccines::NewVaccine;
use vaxloop_store::vehicles::NewVehicle;
use vaxloop_store::{
    Db, PiiCipher, WriteTx, journeys, org, people, sites, users, vaccines, vehicles,
};

pub use vaxloop_store::StoreError;

use crate::model::Town;

/// The password of every demo staff login. The demo prints it; it is not a secret.
pub const DEMO_PASSWORD: &str = "vaxloop-demo";

/// The demo's screening questions for each vaccine: Chinese, English, what a "yes" means.
pub const SCREENING: [(&str, &str, &str); 5] = [
    (
        "今天是否发热（体温≥37.3℃）？",
        "A fever today (37.3 °C or more)?",
        "defer",
    ),
    (
        "是否对疫苗或其成分严重过敏？",
        "A severe allergy to a vaccine or its ingredients?",
        "refer",
    ),
    (
        "近期是否患急性疾病或慢性病急性发作？",
        "An acute illness, or a chronic one flaring up?",
        "defer",
    ),
    (
        "是否怀孕或正在哺乳？",
        "Pregnant or breastfeeding?",
        "refer",
    ),
    (
        "近 14 天内是否接种过其他疫苗？",
        "Another vaccine in the last 14 days?",
        "note",
    ),
];
/// The demo resident's PIN.
pub const DEMO_PIN: &str = "123456";
/// The consent notice version the demo's registrations agreed to.
const CONSENT_VERSION: &str = "2026-11-v1";

/// What [`store`] wrote, and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub people: u64,
    pub registered: u64,
    pub units: usize,
    pub sites: usize,
    pub logins: usize,
    /// Bookable slots opened for today and the next three days.
    pub slots: u64,
    pub seconds: f64,
}

/// Stores the town in one write transaction; on error nothing is left behind.
pub async fn store(db: &Db, cipher: &PiiCipher, town: &Town) -> Result<Stored, StoreError> {
    let started = Instant::now();
    // Hash the demo secrets before the write lock is taken: Argon2 is deliberately slow.
    let hashes: Vec<String> = town
        .logins
        .iter()
        .map(|l| {
            password::hash(if l.person.is_some() {
                DEMO_PIN
            } else {
                DEMO_PASSWORD
            })
        })
        .collect();
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    let org = store_org(&mut tx, cipher, town, now).await?;
    let (stored_people, registered) = store_people(&mut tx, cipher, town, &org.1, now).await?;
    let ids = Ids {
        org,
        sites: store_sites(&mut tx, town, now).await?,
    };
    store_supply(&mut tx, town, &ids, now).await?;
    store_vehicles(&mut tx, town).await?;
    store_logins(&mut tx, cipher, town, &hashes, &ids, now).await?;
    tx.commit().await?;
    // Slots for today and the next three days, sized by each site's desks and seats.
    use vaxloop_app::slots::{OBSERVATION_MINUTES, SLOT_MINUTES, booking_window, open_days};
    let days = booking_window(town.spec.today);
    let mut slots = 0;
    for &site in &ids.sites {
        slots += open_days(db, site, &days, SLOT_MINUTES, OBSERVATION_MINUTES).await?;
    }
    db.after_bulk_load().await?;
    Ok(Stored {
        people: stored_people,
        registered,
        units: ids.org.1.len(),
        sites: ids.sites.len(),
        logins: town.logins.len(),
        slots,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The stored ids of the town's work groups and units, and of its sites, by index.
struct Ids {
    org: (Vec<i64>, Vec<i64>),
    sites: Vec<i64>,
}

async fn store_org(
    tx: &mut WriteTx,
    cipher: &PiiCipher,
    town: &Town,
    now: i64,
) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let mut group_ids = Vec::with_capacity(town.groups.len());
    for g in &town.groups {
        let new = NewWorkGroup {
            code: g.code.clone(),
            name: g.name.clone(),
            kind: g.kind,
            leader_name: Some(g.leader.clone()),
        };
        group_ids.push(org::insert_work_group(tx, &new, now).await?);
    }
    let mut unit_ids = Vec::with_capacity(town.units.len());
    for u in &town.units {
        let new = NewUnit {
            code: u.code.clone(),
            work_group_id: group_ids[u.group],
            name: u.name.clone(),
            kind: u.kind,
            address: u.address.clone(),
            lat: Some(u.lat),
            lon: Some(u.lon),
            target_headcount: u.target,
            contact_name: Some(u.contact.clone()),
            contact_phone: Some(u.contact_phone.clone()),
            reg_token: u.reg_token.clone(),
        };
        unit_ids.push(org::insert_unit(tx, cipher, &new, now).await?);
    }

    Ok((group_ids, unit_ids))
}

/// The people, each unit's in chunks, and their journeys opened; answers `(stored, registered)`.
async fn store_people(
    tx: &mut WriteTx,
    cipher: &PiiCipher,
    town: &Town,
    unit_ids: &[i64],
    now: i64,
) -> Result<(u64, u64), StoreError> {
    // Registrations happened over the last ten days, in the morning.
    let registered_at = town
        .spec
        .today
        .checked_sub_days(Days::new(10))
        .unwrap_or(town.spec.today)
        .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default())
        .and_utc()
        .timestamp_millis();
    let mut stored_people = 0;
    for chunk in town.people.chunks(5000) {
        let batch: Vec<NewPerson> = chunk
            .iter()
            .map(|p| NewPerson {
                unit_id: unit_ids[p.unit],
                name: p.name.clone(),
                resident_id: p.id.clone(),
                phone: Some(p.phone.clone()),
                disabled: p.disabled,
                consent: (p.source == Source::Qr)
                    .then(|| (registered_at, CONSENT_VERSION.to_string())),
                source: p.source,
                confirmed: p.confirmed,
                note: None,
            })
            .collect();
        stored_people += people::insert_many(tx, cipher, &batch, now).await?;
    }
    let registered = journeys::open_for_registered(tx, None, now).await?;

    Ok((stored_people, registered))
}

async fn store_sites(tx: &mut WriteTx, town: &Town, now: i64) -> Result<Vec<i64>, StoreError> {
    let mut site_ids = Vec::with_capacity(town.sites.len());
    for s in &town.sites {
        let new = NewSite {
            code: s.code.clone(),
            name: s.name.clone(),
            kind: s.kind,
            address: s.address.clone(),
            lat: Some(s.lat),
            lon: Some(s.lon),
            open_from: s.open_from.map(|d| d.to_string()),
            open_until: s.open_until.map(|d| d.to_string()),
            hours: s.hours.clone(),
            zones: s
                .zones
                .iter()
                .map(
                    |&(kind, space, desks_am, desks_pm, mean_service_seconds)| NewZone {
                        kind,
                        space,
                        desks_am,
                        desks_pm,
                        mean_service_seconds,
                    },
                )
                .collect(),
        };
        site_ids.push(sites::insert(tx, &new, now).await?);
    }

    Ok(site_ids)
}

/// The two vaccines the demo town uses.
fn products() -> [NewVaccine; 2] {
    [
        NewVaccine {
            code: "BIBP".into(),
            name: "新型冠状病毒灭活疫苗（Vero细胞）".into(),
            manufacturer: "北京生物制品研究所".into(),
            doses_in_series: 2,
            min_interval_days: 21,
            min_age: 3,
            max_age: None,
            doses_per_vial: 1,
            open_vial_minutes: 0,
            observation_minutes: 30,
        },
        NewVaccine {
            code: "ZFSW".into(),
            name: "重组新型冠状病毒蛋白疫苗（CHO细胞）".into(),
            manufacturer: "安徽智飞龙科马生物制药".into(),
            doses_in_series: 3,
            min_interval_days: 28,
            min_age: 18,
            max_age: None,
            doses_per_vial: 2,
            open_vial_minutes: 360,
            observation_minutes: 30,
        },
    ]
}

/// The vaccines with their screening questions, the lots, and the deliveries (today's
/// received).
async fn store_supply(
    tx: &mut WriteTx,
    town: &Town,
    ids: &Ids,
    now: i64,
) -> Result<(), StoreError> {
    let (products, site_ids) = (products(), &ids.sites);
    let mut vaccine_ids = Vec::new();
    for v in &products {
        let id = vaccines::insert_vaccine(tx, v).await?;
        // The usual contraindication questions before an inactivated vaccine.
        for (i, (zh, en, on_yes)) in SCREENING.iter().enumerate() {
            vaxloop_store::screening::add_question_in(tx, id, i as i64 + 1, zh, en, on_yes).await?;
        }
        vaccine_ids.push((v.code.clone(), id));
    }
    let mut lot_ids = Vec::with_capacity(town.lots.len());
    for (code, number, expiry) in &town.lots {
        let vaccine = vaccine_ids
            .iter()
            .find(|(c, _)| c == code)
            .map(|v| v.1)
            .ok_or(StoreError::NotFound("vaccine"))?;
        lot_ids.push(vaccines::insert_lot(tx, vaccine, number, &expiry.to_string()).await?);
    }
    for d in &town.deliveries {
        let day = d.day.to_string();
        let id =
            vaccines::plan_delivery(tx, lot_ids[d.lot], site_ids[d.site], &day, d.doses).await?;
        vaccines::allocate(tx, site_ids[d.site], &day, d.doses).await?;
        if d.received {
            vaccines::receive_delivery(tx, id, None, now).await?;
        }
    }
    Ok(())
}

async fn store_vehicles(tx: &mut WriteTx, town: &Town) -> Result<(), StoreError> {
    for v in &town.vehicles {
        let new = NewVehicle {
            code: v.code.clone(),
            plate: v.plate.clone(),
            seats: v.seats,
            driver_name: v.driver.clone(),
            driver_phone: v.phone.clone(),
            depot: v.depot.clone(),
            depot_lat: None,
            depot_lon: None,
        };
        vehicles::insert(tx, &new).await?;
    }

    Ok(())
}

/// One login per role and scope, each with the demo password (residents: the demo PIN).
async fn store_logins(
    tx: &mut WriteTx,
    cipher: &PiiCipher,
    town: &Town,
    hashes: &[String],
    ids: &Ids,
    now: i64,
) -> Result<(), StoreError> {
    let ((group_ids, unit_ids), site_ids) = (&ids.org, &ids.sites);
    for (login, hash) in town.logins.iter().zip(hashes) {
        let person_id = match login.person {
            Some(p) => Some(
                people::id_by_resident_id(tx, cipher, &town.people[p].id)
                    .await?
                    .ok_or(StoreError::NotFound("demo resident"))?,
            ),
            None => None,
        };
        let new = NewUser {
            username: login.username.clone(),
            display_name: login.display_name.clone(),
            password_hash: hash.clone(),
            role: Some(login.role),
            work_group_id: login.group.map(|g| group_ids[g]),
            unit_id: login.unit.map(|u| unit_ids[u]),
            site_id: login.site.map(|s| site_ids[s]),
            site_post: login.post,
            person_id,
        };
        users::insert(tx, &new, now).await?;
    }
    Ok(())
}
