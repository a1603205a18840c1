//! The model's alphabet. Channel order is the paper's, **A, C, G, T, N**.

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

/// Appends the `[CHANNELS, length]` one-hot block of one sequence (channel-major, as burn's
/// `[batch, channels, length]` layout wants it), padded with `N` or truncated at the 3' end.
pub fn push_one_hot(codes: &[u8], length: usize, out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + CHANNELS * length, 0.0);
    let block = &mut out[start..];
    for position in 0..length {
        let code = codes.get(position).copied().unwrap_or(N) as usize;
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
        let mut out = Vec::new();
        push_one_hot(&[0, 3], 3, &mut out);
        // rows: A C G T N; columns: positions 1..3
        assert_eq!(
            out,
            vec![
                1., 0., 0., /* C */ 0., 0., 0., /* G */ 0., 0., 0., /* T */ 0., 1.,
                0., /* N */ 0., 0., 1.
            ]
        );
        let mut truncated = Vec::new();
        push_one_hot(&[2, 2, 1], 2, &mut truncated);
        assert_eq!(truncated, vec![0., 0., 0., 0., 1., 1., 0., 0., 0., 0.]);
    }
}
