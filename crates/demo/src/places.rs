//! Where things are in the demo town: a point near the centre of Hongqiao, a street address.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::names::ROADS;

/// The centre of Hongqiao town; units and sites scatter within a few kilometres.
const CENTRE: (f64, f64) = (31.1885, 121.3950);

pub(crate) fn near_centre(rng: &mut ChaCha8Rng, km: f64) -> (f64, f64) {
    // One degree of latitude is ~111 km; of longitude at 31°N, ~95 km.
    let dlat = rng.random_range(-km..km) / 111.0;
    let dlon = rng.random_range(-km..km) / 95.0;
    (CENTRE.0 + dlat, CENTRE.1 + dlon)
}

pub(crate) fn address(rng: &mut ChaCha8Rng) -> String {
    format!(
        "闵行区{}{}号",
        ROADS[rng.random_range(0..ROADS.len())],
        rng.random_range(1..2000)
    )
}
