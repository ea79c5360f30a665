//! How a round's orders are cut into the chunks the fetchers take ([`super::flow`]): small
//! first, so the first sends start after a short fetch; doubling up to the configured
//! size; and, once every order is known and there are enough, the same steps down at the
//! end, each step once per fetcher (the fetchers take chunks side by side: the last ones
//! they take together are then the smallest), so the last sends end soon after the last
//! fetch. Orders may keep coming (RED's listing, read page by page) until
//! [`Chunker::done`].

use std::collections::VecDeque;

/// The first chunk's size, and the last one's.
pub const FIRST_CHUNK: usize = 8;

/// Chunk sizes for `n` orders of at most `chunk` each: from `next` doubling up to `chunk`,
/// then, when there are orders enough for a whole chunk between, halving down to
/// [`FIRST_CHUNK`] at the end, each size `lanes` times (the fetchers side by side).
pub fn sizes(n: usize, next: usize, chunk: usize, lanes: usize) -> Vec<usize> {
    let chunk = chunk.max(1);
    let doubling = |from: usize| {
        let mut v = Vec::new();
        let mut s = from.max(1);
        while s < chunk {
            v.push(s);
            s *= 2;
        }
        v
    };
    let up = doubling(next.min(chunk));
    let down: Vec<usize> = doubling(FIRST_CHUNK.min(chunk))
        .into_iter()
        .rev()
        .flat_map(|s| std::iter::repeat_n(s, lanes.max(1)))
        .collect();
    let (ups, downs): (usize, usize) = (up.iter().sum(), down.iter().sum());
    let mut left = n;
    let tail = if n >= ups + chunk + downs {
        left -= downs;
        down
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for size in up.into_iter().chain(std::iter::repeat(chunk)) {
        if left == 0 {
            break;
        }
        let size = size.min(left);
        out.push(size);
        left -= size;
    }
    out.extend(tail);
    out
}

/// Orders waiting to be fetched, handed out as chunks.
pub struct Chunker<T> {
    queue: VecDeque<T>,
    chunk: usize,
    /// Fetchers taking chunks side by side.
    lanes: usize,
    /// The next chunk's size while orders may still come.
    next: usize,
    /// Once they are all known: the sizes of the chunks left.
    plan: Option<VecDeque<usize>>,
}

impl<T> Chunker<T> {
    pub fn new(chunk: usize, lanes: usize) -> Chunker<T> {
        let chunk = chunk.max(1);
        Chunker {
            queue: VecDeque::new(),
            chunk,
            lanes,
            next: FIRST_CHUNK.min(chunk),
            plan: None,
        }
    }

    pub fn push(&mut self, items: impl IntoIterator<Item = T>) {
        self.queue.extend(items);
    }

    /// Every order is known: the rest is cut as [`sizes`] says.
    pub fn done(&mut self) {
        if self.plan.is_none() {
            self.plan = Some(sizes(self.queue.len(), self.next, self.chunk, self.lanes).into());
        }
    }

    /// Every order is known and handed out.
    pub fn finished(&self) -> bool {
        self.plan.is_some() && self.queue.is_empty()
    }

    /// The next chunk, when one should go now. While orders may still come a chunk goes
    /// when it is whole, or, when nothing else is being fetched (`idle`), with what there
    /// is rather than waiting.
    pub fn take(&mut self, idle: bool) -> Option<Vec<T>> {
        if self.queue.is_empty() {
            return None;
        }
        let size = match &mut self.plan {
            Some(plan) => plan.pop_front().unwrap_or(self.chunk),
            None if self.queue.len() >= self.next => {
                let size = self.next;
                self.next = (self.next * 2).min(self.chunk);
                size
            }
            None if idle => self.next,
            None => return None,
        };
        let n = size.min(self.queue.len());
        Some(self.queue.drain(..n).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_sizes(n: usize, chunk: usize) -> Vec<usize> {
        sizes(n, FIRST_CHUNK.min(chunk.max(1)), chunk, 1)
    }

    #[test]
    fn chunks_grow_to_the_configured_size_shrink_at_the_end_of_a_long_round_and_cover_every_order()
    {
        assert_eq!(chunk_sizes(0, 64), Vec::<usize>::new());
        assert_eq!(chunk_sizes(10, 64), vec![8, 2]);
        assert_eq!(chunk_sizes(150, 64), vec![8, 16, 32, 64, 30]);
        assert_eq!(chunk_sizes(300, 64), vec![8, 16, 32, 64, 64, 60, 32, 16, 8]);
        assert_eq!(chunk_sizes(5, 2), vec![2, 2, 1]);
        assert_eq!(chunk_sizes(3, 0), vec![1, 1, 1]);
        for n in [1, 17, 999, 1000, 10_000] {
            let s = chunk_sizes(n, 64);
            assert_eq!(s.iter().sum::<usize>(), n);
            assert!(s.iter().all(|c| (1..=64).contains(c)), "{s:?}");
            assert!(s[0] <= 8, "{s:?}");
            if n >= 176 {
                assert_eq!(s[s.len() - 3..], [32, 16, 8], "{s:?}");
            }
        }
    }

    #[test]
    fn orders_that_keep_coming_go_in_whole_chunks_or_when_idle_then_the_rest_steps_down() {
        let mut c = Chunker::new(64, 2);
        c.push(0..100);
        let took: Vec<usize> = std::iter::from_fn(|| c.take(false).map(|v| v.len())).collect();
        assert_eq!(took, [8, 16, 32]);
        // 44 wait for a whole chunk of 64, unless nothing else is being fetched.
        assert!(c.take(false).is_none());
        assert_eq!(c.take(true).map(|v| v.len()), Some(44));
        c.push(0..300);
        c.done();
        let took: Vec<usize> = std::iter::from_fn(|| c.take(false).map(|v| v.len())).collect();
        assert_eq!(took, [64, 64, 60, 32, 32, 16, 16, 8, 8]);
        assert!(c.finished());
    }
}
