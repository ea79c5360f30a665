//! Checks of the whole program once every statement is lowered: target fields that
//! read each other in a circle, params and tables nothing reads.

use super::{Cx, Diag, C};

impl<'m> Cx<'m> {
    pub(super) fn cycles(&mut self) {
        let n = self.deps.len().min(self.global_meta.len());
        // 0 new, 1 on the stack, 2 done
        let mut state = vec![0u8; n];
        let mut reported = false;
        for start in 0..n {
            if state[start] != 0 || reported {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some((node, i)) = stack.last().copied() {
                let deps = &self.deps[node];
                if i < deps.len() {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    let next = deps[i] as usize;
                    if next >= n {
                        continue;
                    }
                    if state[next] == 1 {
                        let pos = stack.iter().position(|(x, _)| *x == next).unwrap_or(0);
                        let names: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(x, _)| self.global_meta[*x].name.clone())
                            .chain(std::iter::once(self.global_meta[next].name.clone()))
                            .collect();
                        // Point at the member the checked file itself wrote, if any.
                        let root = self.m.root;
                        let span = stack[pos..]
                            .iter()
                            .map(|(x, _)| self.global_meta[*x].span)
                            .find(|s| s.file == root)
                            .unwrap_or(self.global_meta[next].span);
                        self.diags.push(
                            Diag::error(
                                C::TargetCycle,
                                span,
                                format!("these read each other in a circle: {}", names.join(" → ")),
                            )
                            .label("part of the circle")
                            .help(
                                "one of them must be computed from the order, not from the others",
                            ),
                        );
                        reported = true;
                        break;
                    }
                    if state[next] == 0 {
                        state[next] = 1;
                        stack.push((next, 0));
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
    }

    pub(super) fn unused(&mut self) {
        let root = self.m.root;
        for p in &self.params {
            if !p.used && p.span.file == root {
                self.diags.push(
                    Diag::warning(
                        C::Unused,
                        p.span,
                        format!("param `{}` is never read", p.name),
                    )
                    .label("unused"),
                );
            }
        }
        for t in &self.table_info {
            if !t.used && t.span.file == root {
                self.diags.push(
                    Diag::warning(
                        C::Unused,
                        t.span,
                        format!("table `{}` is never read", t.name),
                    )
                    .label("unused"),
                );
            }
        }
    }
}
