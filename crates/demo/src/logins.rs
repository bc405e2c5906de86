//! The demo's logins: one per role, and a few per scope so scoping can be seen.

use vaxloop_core::{Role, SitePost};

use crate::model::{DemoGroup, DemoLogin, DemoPerson, DemoUnit};

/// One login per role, and a few per scope so the demo can show scoping.
pub(crate) fn logins(
    groups: &[DemoGroup],
    units: &[DemoUnit],
    people: &[DemoPerson],
) -> Vec<DemoLogin> {
    let base = DemoLogin {
        username: None,
        display_name: String::new(),
        role: Role::Admin,
        group: None,
        unit: None,
        site: None,
        post: None,
        person: None,
    };
    let mut out = vec![
        DemoLogin {
            username: Some("admin".into()),
            display_name: "镇指挥部管理员".into(),
            ..base.clone()
        },
        DemoLogin {
            username: Some("desk".into()),
            display_name: "预约管理组".into(),
            role: Role::Desk,
            ..base.clone()
        },
        DemoLogin {
            username: Some("volunteer".into()),
            display_name: "志愿者".into(),
            role: Role::Staff,
            // Assigned to the large site until rosters say more.
            site: Some(0),
            ..base.clone()
        },
    ];
    for (g, group) in groups.iter().enumerate() {
        out.push(DemoLogin {
            username: Some(format!("leader.{}", group.code.to_lowercase())),
            display_name: format!("{}组长 {}", group.name, group.leader),
            role: Role::GroupLeader,
            group: Some(g),
            ..base.clone()
        });
    }
    // A contact for the first unit of each group.
    for g in 0..groups.len() {
        if let Some((u, unit)) = units.iter().enumerate().find(|(_, u)| u.group == g) {
            out.push(DemoLogin {
                username: Some(format!("contact.{}", unit.code.to_lowercase())),
                display_name: format!("{}联络员 {}", unit.name, unit.contact),
                role: Role::UnitContact,
                unit: Some(u),
                ..base.clone()
            });
        }
    }
    for (post, user, label) in [
        (SitePost::Manager, "hcl.manager", "合川路接种点负责人"),
        (SitePost::CheckIn, "hcl.checkin", "合川路登记台"),
        (SitePost::Screening, "hcl.screening", "合川路预检医生"),
        (SitePost::Vaccinator, "hcl.vaccinator", "合川路接种护士"),
        (SitePost::Observation, "hcl.observation", "合川路留观护士"),
    ] {
        out.push(DemoLogin {
            username: Some(user.into()),
            display_name: label.into(),
            role: Role::SiteStaff,
            site: Some(0),
            post: Some(post),
            ..base.clone()
        });
    }
    if let Some((p, person)) = people
        .iter()
        .enumerate()
        .find(|(_, p)| p.source == vaxloop_core::Source::Qr && p.confirmed)
    {
        out.push(DemoLogin {
            username: None,
            display_name: person.name.clone(),
            role: Role::Resident,
            person: Some(p),
            ..base
        });
    }
    out
}
