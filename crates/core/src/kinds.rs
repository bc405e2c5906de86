//! The closed vocabularies of the domain. Each value has one stable code — the string stored in the
//! database (where a CHECK constraint lists the same codes) and used in URLs and files — and
//! translations live in the web layer, keyed by that code.

use std::str::FromStr;

/// An unknown code for one of the vocabularies below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}', expected one of: {expected}")]
pub struct UnknownCode {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

/// Implements `as_str`, `ALL` and `FromStr` from one table of `Variant => "code"` pairs, so the
/// code list cannot drift from the enum. The enums themselves are written out in full.
macro_rules! codes {
    ($ty:ident, $what:literal, { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($ty::$variant),)+
                    _ => Err(UnknownCode {
                        what: $what,
                        value: s.to_string(),
                        expected: [$($code),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// 工作组 kinds, as the seed splits mobilisation "by layer and by category".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkGroupKind {
    VillageCompany,
    Community,
    Street,
    Enterprise,
    Construction,
}
codes!(WorkGroupKind, "work group kind", {
    VillageCompany => "village_company",
    Community => "community",
    Street => "street",
    Enterprise => "enterprise",
    Construction => "construction",
});

/// 单位 kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Village,
    Community,
    Enterprise,
    OfficeBuilding,
    ConstructionSite,
    School,
    Shop,
}
codes!(UnitKind, "unit kind", {
    Village => "village",
    Community => "community",
    Enterprise => "enterprise",
    OfficeBuilding => "office_building",
    ConstructionSite => "construction_site",
    School => "school",
    Shop => "shop",
});

/// 接种点 kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Fixed,
    Temporary,
    Mobile,
    Workplace,
}
codes!(SiteKind, "site kind", {
    Fixed => "fixed",
    Temporary => "temporary",
    Mobile => "mobile",
    Workplace => "workplace",
});

/// The four zones every site plans space for, in the order people pass through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    Waiting,
    Screening,
    Vaccination,
    Observation,
}
codes!(ZoneKind, "zone kind", {
    Waiting => "waiting",
    Screening => "screening",
    Vaccination => "vaccination",
    Observation => "observation",
});

/// Who a login belongs to; decides the home page and what the user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    GroupLeader,
    UnitContact,
    Desk,
    SiteStaff,
    Staff,
    Resident,
}
codes!(Role, "role", {
    Admin => "admin",
    GroupLeader => "group_leader",
    UnitContact => "unit_contact",
    Desk => "desk",
    SiteStaff => "site_staff",
    Staff => "staff",
    Resident => "resident",
});

/// The post a site-staff login holds at its site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SitePost {
    Manager,
    CheckIn,
    Screening,
    Vaccinator,
    Observation,
}
codes!(SitePost, "site post", {
    Manager => "manager",
    CheckIn => "check_in",
    Screening => "screening",
    Vaccinator => "vaccinator",
    Observation => "observation",
});

/// Where a person stands on the journey for one dose (DESIGN.md, "The loop").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JourneyState {
    Registered,
    Booked,
    CheckedIn,
    Screened,
    Deferred,
    Vaccinated,
    Observing,
    Released,
    NoShow,
    Cancelled,
    Declined,
    Aefi,
}
codes!(JourneyState, "journey state", {
    Registered => "registered",
    Booked => "booked",
    CheckedIn => "checked_in",
    Screened => "screened",
    Deferred => "deferred",
    Vaccinated => "vaccinated",
    Observing => "observing",
    Released => "released",
    NoShow => "no_show",
    Cancelled => "cancelled",
    Declined => "declined",
    Aefi => "aefi",
});

/// How a person came onto a unit's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// On a roster the unit contact uploaded.
    Import,
    /// Registered on the phone page by scanning the unit's QR code.
    Qr,
    /// Registered at a site or by the appointment desk.
    Desk,
}
codes!(Source, "registration source", {
    Import => "import",
    Qr => "qr",
    Desk => "desk",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_name_the_choices() {
        for kind in WorkGroupKind::ALL {
            assert_eq!(kind.as_str().parse::<WorkGroupKind>(), Ok(*kind));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        let err = "mayor".parse::<Role>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown role 'mayor', expected one of: admin, group_leader, unit_contact, desk, site_staff, staff, resident"
        );
    }
}
