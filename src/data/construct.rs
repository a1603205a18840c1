//! The promoter construct of the Vaishnav et al. (2022) and DREAM 2022 libraries: a variable
//! region between two constant flanks, which every measured sequence carries. Generated
//! promoters (distillation, simulation, random design starts) are built inside the same flanks.

use crate::data::alphabet;
use crate::random::SplitMix;

/// The constant 5' flank.
pub const FLANK_5: &str = "TGCATTTTTTTCACATC";
/// The constant 3' flank.
pub const FLANK_3: &str = "GGTTACGGCTGTT";
/// Length of the variable region between the flanks.
pub const VARIABLE_LENGTH: usize = 80;
/// Length of a whole construct.
pub const LENGTH: usize = FLANK_5.len() + VARIABLE_LENGTH + FLANK_3.len();

/// A random promoter of the library as alphabet channels: a variable region of independent
/// bases, each C or G with probability `gc` (else A or T, each strand's base equally likely),
/// between the constant flanks. `coin(p)` is true with probability `p`: each caller brings its
/// own stream of draws.
pub fn random_promoter(gc: f64, mut coin: impl FnMut(f64) -> bool) -> Vec<u8> {
    let flank = |text: &str| alphabet::channels(text).expect("flanks are ACGT");
    let mut sequence = flank(FLANK_5);
    for _ in 0..VARIABLE_LENGTH {
        // A C G T are channels 0 1 2 3: C or G with probability gc, else A or T.
        let base = match (coin(gc), coin(0.5)) {
            (true, true) => 1,
            (true, false) => 2,
            (false, true) => 0,
            (false, false) => 3,
        };
        sequence.push(base);
    }
    sequence.extend(flank(FLANK_3));
    sequence
}

/// Draws before [`random_promoters`] gives up on a G+C range.
const DRAWS_PER_PROMOTER: usize = 10_000;

/// `count` random promoters of the library, reproducibly from `seed` (the same natively and in
/// WebAssembly). With `gc`, each whole sequence's G+C share lies in `low..=high`: a promoter's
/// base rate is drawn in the range, and a promoter outside it drawn again; without, bases are
/// uniform, like the random libraries' variable regions.
pub fn random_promoters(
    count: usize,
    seed: u64,
    gc: Option<(f64, f64)>,
) -> Result<Vec<Vec<u8>>, String> {
    let mut random = SplitMix(seed);
    (0..count)
        .map(|_| {
            let Some((low, high)) = gc else {
                return Ok(random_promoter(0.5, |p| random.chance(p)));
            };
            for _ in 0..DRAWS_PER_PROMOTER {
                let rate = low + (high - low) * random.unit();
                let promoter = random_promoter(rate, |p| random.chance(p));
                if (low..=high).contains(&alphabet::gc_share(&promoter)) {
                    return Ok(promoter);
                }
            }
            // The extremes: a variable region of T only, and of C only.
            let lowest = alphabet::gc_share(&random_promoter(0.0, |_| false));
            let highest = alphabet::gc_share(&random_promoter(1.0, |_| true));
            Err(format!(
                "G+C {low}-{high}: no random promoter found in {DRAWS_PER_PROMOTER} draws (with the constant flanks, a promoter's G+C share lies in {lowest:.2}-{highest:.2})"
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_promoters_are_seeded_in_the_flanks_and_in_their_gc_range() {
        let flank = |text: &str| alphabet::channels(text).unwrap();
        let first = random_promoters(50, 7, Some((0.3, 0.4))).unwrap();
        assert_eq!(first, random_promoters(50, 7, Some((0.3, 0.4))).unwrap());
        assert_ne!(first, random_promoters(50, 8, Some((0.3, 0.4))).unwrap());
        for promoter in &first {
            assert_eq!(promoter.len(), LENGTH);
            assert!(promoter.starts_with(&flank(FLANK_5)));
            assert!(promoter.ends_with(&flank(FLANK_3)));
            let gc = alphabet::gc_share(promoter);
            assert!((0.3..=0.4).contains(&gc), "{gc}");
        }
        let uniform = random_promoters(200, 1, None).unwrap();
        let counts = (0..4u8).map(|base| {
            uniform
                .iter()
                .flat_map(|p| &p[FLANK_5.len()..FLANK_5.len() + VARIABLE_LENGTH])
                .filter(|&&c| c == base)
                .count()
        });
        // 16,000 uniform bases: each within a few standard deviations (about 55) of 4,000.
        for count in counts {
            assert!((3_750..4_250).contains(&count), "{count}");
        }
        let impossible = random_promoters(1, 1, Some((0.95, 1.0))).unwrap_err();
        assert!(impossible.contains("G+C 0.95-1"), "{impossible}");
    }
}
