//! The one seeded PRNG core uses for every "random" decision.
//!
//! `xoshiro256**` seeded through `splitmix64`: fast, small, and the same sequence on every
//! platform (only `u64` arithmetic; no `usize`, no floats in the state). Core never touches a
//! global or OS-seeded RNG: whoever drives core passes a [`Rng`] in.

/// A deterministic pseudo-random number generator (xoshiro256**).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    #[must_use]
    pub fn from_seed(seed: u64) -> Rng {
        let mut sm = seed;
        let state = [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)];
        debug_assert!(state.iter().any(|word| *word != 0));
        Rng { state }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.state[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.state[1] << 17;
        self.state[2] ^= self.state[0];
        self.state[3] ^= self.state[1];
        self.state[1] ^= self.state[2];
        self.state[0] ^= self.state[3];
        self.state[2] ^= t;
        self.state[3] = self.state[3].rotate_left(45);
        result
    }

    /// A random id in Kafka's form (`Uuid.randomUuid().toString()`): 16 bytes as unpadded
    /// base64url, 22 characters — what `kafka-storage random-uuid` prints.
    pub fn uuid_base64(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        base64url(&bytes)
    }

    /// A uniform value in `0..bound` (Lemire's method, unbiased). `bound` must be > 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "Rng::below needs a positive bound");
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            // Truncation keeps the low 64 bits on purpose: that is the rejection test.
            #[allow(clippy::cast_possible_truncation)]
            let low = product as u64;
            if low >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// A uniform index in `0..len` for a non-empty slice length.
    pub fn index(&mut self, len: usize) -> usize {
        assert!(len > 0, "Rng::index needs a non-empty range");
        let bound = u64::try_from(len).expect("slice lengths fit in u64");
        usize::try_from(self.below(bound)).expect("below(len) < len fits in usize")
    }

    /// A uniform value in `low..=high`.
    pub fn range_inclusive(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range {low}..={high}");
        match (high - low).checked_add(1) {
            Some(span) => low + self.below(span),
            None => self.next_u64(),
        }
    }

    /// `true` with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        assert!(denominator > 0 && numerator <= denominator);
        self.below(denominator) < numerator
    }

    /// An independent generator derived from this one (for sub-components).
    pub fn fork(&mut self) -> Rng {
        Rng::from_seed(self.next_u64())
    }
}

/// Unpadded base64url (RFC 4648 §5).
#[must_use]
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (i, b)| word | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors_and_ids_have_kafkas_length() {
        let vectors = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE")];
        for (plain, encoded) in vectors {
            assert_eq!(base64url(plain.as_bytes()), encoded);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        let id = Rng::from_seed(7).uuid_base64();
        assert_eq!(id.len(), 22, "{id}");
        assert_ne!(id, Rng::from_seed(8).uuid_base64());
    }

    #[test]
    fn same_seed_same_sequence_and_known_first_values() {
        let mut a = Rng::from_seed(42);
        let mut b = Rng::from_seed(42);
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let second: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(first, second);
        assert_ne!(first, (0..4).map(|_| Rng::from_seed(43).next_u64()).collect::<Vec<_>>());
        // Pinned so a change to the generator (and so to every simulated trace) is noticed.
        assert_eq!(Rng::from_seed(0).next_u64(), 0x99EC_5F36_CB75_F2B4);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Rng::from_seed(7);
        let mut seen = [0u32; 5];
        for _ in 0..10_000 {
            let value = rng.below(5);
            assert!(value < 5);
            seen[usize::try_from(value).unwrap()] += 1;
        }
        assert!(seen.iter().all(|count| *count > 1_500), "{seen:?}");
        assert_eq!(rng.range_inclusive(3, 3), 3);
    }
}
