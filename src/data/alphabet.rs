//! The model's alphabet. Channel order is the paper's, **A, C, G, T, N**.

use std::ops::Range;

/// Input channels of the one-hot encoding.
pub const CHANNELS: usize = 5;
/// Letters in channel order.
pub const LETTERS: [char; CHANNELS] = ['A', 'C', 'G', 'T', 'N'];
/// Channel of `N`, also used for IUPAC ambiguity codes and for padding.
pub const N: u8 = 4;

/// Why a sequence cannot be encoded. Positions are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    #[error("empty sequence")]
    Empty,
    #[error(
        "invalid character {found:?} at position {position} (allowed: A C G T, IUPAC codes, any case)"
    )]
    InvalidCharacter { found: char, position: usize },
}

/// The channel of one letter: A C G T in either case, every IUPAC ambiguity code as `N`.
pub fn channel(letter: u8) -> Option<u8> {
    match letter.to_ascii_uppercase() {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        b'N' | b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' => Some(N),
        _ => None,
    }
}

/// The letters of `codes` (channels), `N` for the ambiguity channel.
pub fn letters(codes: &[u8]) -> String {
    codes.iter().map(|&c| LETTERS[usize::from(c)]).collect()
}

/// The share of C and G among `codes` (channels; `N` counts as neither), 0 when empty.
pub fn gc_share(codes: &[u8]) -> f64 {
    let gc = codes.iter().filter(|&&c| c == 1 || c == 2).count();
    gc as f64 / codes.len().max(1) as f64
}

/// Channels of a whole sequence, rejecting the first letter outside the alphabet.
pub fn channels(sequence: &str) -> Result<Vec<u8>, SequenceError> {
    if sequence.is_empty() {
        return Err(SequenceError::Empty);
    }
    sequence
        .char_indices()
        .enumerate()
        .map(|(index, (_, found))| {
            u8::try_from(found)
                .ok()
                .and_then(channel)
                .ok_or(SequenceError::InvalidCharacter {
                    found,
                    position: index + 1,
                })
        })
        .collect()
}

/// Which end of a sequence a model's fixed-length input holds in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The sequence starts at the input's first position: shorter ones are padded with `N` at
    /// the 3' end, longer ones lose their 3' end (CRMnet's preprocessing).
    FivePrime,
    /// The sequence ends at the input's last position: shorter ones are padded with `N` at the
    /// 5' end, longer ones lose their 5' end (DeepAtt's; the constant 3' flank stays in place).
    ThreePrime,
    /// The sequence's middle base (index `bases / 2`) sits at this input position, as Xpresso's
    /// authors placed shorter promoters on the transcription start site; a sequence that would
    /// then stick out of the input is moved in until it fits, and one longer than the input
    /// keeps the bases that fall inside it.
    Centre(usize),
}

/// How a model reads sequences, as its card tells users and other tools: what a caller must
/// know to prepare inputs or to judge whether a model suits its sequences.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct InputSpec {
    /// Positions the network reads.
    pub length: usize,
    /// Where a sequence sits in the input: `"5'"` (from the first position, shorter ones padded
    /// and longer ones cut at the 3' end), `"3'"` (ending at the last position) or `"centre"`.
    pub anchor: String,
    /// For `"centre"`: the input position of the sequence's middle base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<usize>,
    /// How the network reads N, IUPAC codes and padding: `"n-channel"` (a fifth one-hot
    /// channel), `"all-bases"` (A, C, G and T all 1) or `"zeros"` (all four 0).
    pub unknown_bases: String,
    /// The constant flanks of the library the model was made for, when it was made for one:
    /// `[5' flank, 3' flank]`, the variable region between them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flanks: Option<[String; 2]>,
    /// Per-sequence numeric inputs read beside the sequence, in order (table columns of these
    /// names); absent ones are read as 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// How a sequence of any length fills a model's input of `length` positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputWindow {
    pub length: usize,
    pub anchor: Anchor,
}

impl InputWindow {
    /// The input position of the sequence's first base, negative when bases fall off the start.
    fn start(&self, bases: usize) -> isize {
        let (length, bases_i) = (self.length as isize, bases as isize);
        match self.anchor {
            Anchor::FivePrime => 0,
            Anchor::ThreePrime => length - bases_i,
            Anchor::Centre(position) => {
                let centred = position as isize - bases_i / 2;
                if bases <= self.length {
                    centred.clamp(0, length - bases_i)
                } else {
                    centred
                }
            }
        }
    }

    /// The positions of a sequence of `bases` bases that reach the input.
    pub fn visible(&self, bases: usize) -> Range<usize> {
        let start = self.start(bases);
        let first = start.min(0).unsigned_abs().min(bases);
        let end = (self.length as isize - start).clamp(first as isize, bases as isize) as usize;
        first..end
    }

    /// The input positions of `N` padding before a sequence of `bases` bases.
    fn padding(&self, bases: usize) -> usize {
        self.start(bases).max(0) as usize
    }

    /// The input position of position `position` of a sequence of `bases` bases, if it is seen.
    pub fn input_position(&self, bases: usize, position: usize) -> Option<usize> {
        let visible = self.visible(bases);
        visible
            .contains(&position)
            .then(|| position - visible.start + self.padding(bases))
    }
}

/// Appends the `[CHANNELS, length]` one-hot block of one sequence (channel-major, as burn's
/// `[batch, channels, length]` layout wants it), placed in the input as `window` says.
pub fn push_one_hot(codes: &[u8], window: InputWindow, out: &mut Vec<f32>) {
    let length = window.length;
    let start = out.len();
    out.resize(start + CHANNELS * length, 0.0);
    let block = &mut out[start..];
    let padding = window.padding(codes.len());
    let first = window.visible(codes.len()).start;
    for position in 0..length {
        let code = position
            .checked_sub(padding)
            .and_then(|offset| codes.get(first + offset))
            .copied()
            .unwrap_or(N) as usize;
        block[code * length + position] = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_and_ambiguity_codes_are_accepted() {
        assert_eq!(channels("acgtN").unwrap(), vec![0, 1, 2, 3, 4]);
        assert_eq!(channels("RYkm").unwrap(), vec![N; 4]);
    }

    #[test]
    fn other_characters_name_their_position() {
        assert_eq!(
            channels("ACGXT"),
            Err(SequenceError::InvalidCharacter {
                found: 'X',
                position: 4
            })
        );
        assert_eq!(
            channels("ACé"),
            Err(SequenceError::InvalidCharacter {
                found: 'é',
                position: 3
            })
        );
        assert_eq!(channels(""), Err(SequenceError::Empty));
    }

    #[test]
    fn one_hot_pads_and_truncates_at_the_three_prime_end() {
        let window = |length| InputWindow {
            length,
            anchor: Anchor::FivePrime,
        };
        let mut out = Vec::new();
        push_one_hot(&[0, 3], window(3), &mut out);
        // rows: A C G T N; columns: positions 1..3
        assert_eq!(
            out,
            vec![
                1., 0., 0., /* C */ 0., 0., 0., /* G */ 0., 0., 0., /* T */ 0., 1.,
                0., /* N */ 0., 0., 1.
            ]
        );
        let mut truncated = Vec::new();
        push_one_hot(&[2, 2, 1], window(2), &mut truncated);
        assert_eq!(truncated, vec![0., 0., 0., 0., 1., 1., 0., 0., 0., 0.]);
        assert_eq!(window(2).visible(3), 0..2);
        assert_eq!(window(2).input_position(3, 2), None);
    }

    #[test]
    fn three_prime_anchor_pads_and_truncates_at_the_five_prime_end() {
        let window = |length| InputWindow {
            length,
            anchor: Anchor::ThreePrime,
        };
        let mut out = Vec::new();
        push_one_hot(&[0, 3], window(3), &mut out);
        // rows: A C G T N; columns: positions 1..3; N first, then A, T
        assert_eq!(
            out,
            vec![
                0., 1., 0., /* C */ 0., 0., 0., /* G */ 0., 0., 0., /* T */ 0., 0.,
                1., /* N */ 1., 0., 0.
            ]
        );
        let mut truncated = Vec::new();
        push_one_hot(&[2, 2, 1], window(2), &mut truncated);
        // G C: the first G is cut
        assert_eq!(truncated, vec![0., 0., 0., 1., 1., 0., 0., 0., 0., 0.]);
        assert_eq!(window(2).visible(3), 1..3);
        assert_eq!(window(2).input_position(3, 0), None);
        assert_eq!(window(2).input_position(3, 2), Some(1));
        assert_eq!(window(3).input_position(2, 0), Some(1));
    }

    #[test]
    fn centre_anchor_puts_the_middle_base_on_its_position() {
        let window = InputWindow {
            length: 10,
            anchor: Anchor::Centre(7),
        };
        // 4 bases: the middle base (index 2) on position 7, N around.
        let mut out = Vec::new();
        push_one_hot(&[0, 1, 2, 3], window, &mut out);
        let letters: Vec<usize> = (0..10)
            .map(|p| (0..CHANNELS).find(|&c| out[c * 10 + p] == 1.0).unwrap())
            .collect();
        assert_eq!(letters, vec![4, 4, 4, 4, 4, 0, 1, 2, 3, 4]);
        assert_eq!(window.input_position(4, 2), Some(7));
        // 6 bases would end past the input: moved in to end at its last position.
        assert_eq!(window.visible(6), 0..6);
        assert_eq!(window.input_position(6, 0), Some(4));
        // 10 bases fill it; 14 keep the 10 whose middle is on position 7.
        assert_eq!(window.input_position(10, 0), Some(0));
        assert_eq!(window.visible(14), 0..10);
        assert_eq!(window.input_position(14, 7), Some(7));
        assert_eq!(window.input_position(14, 10), None);
        // The authors' rule for their 10,500-nt input, TSS at 7,000: a 2,000-nt promoter
        // starts at 6,000.
        let xpresso = InputWindow {
            length: 10_500,
            anchor: Anchor::Centre(7_000),
        };
        assert_eq!(xpresso.input_position(2_000, 0), Some(6_000));
    }
}
