//! A problem a used file has because of the file that uses it is shown in the using
//! file, the file the integrator wrote, with the used file's line as a note (issue 23):
//! a required field missing because a file `drop`ped it is shown at the `drop`; a param
//! the root file leaves unset at the root file's `use`; an amount of the base in the
//! wrong unit, because a using file names another contract, at that file's `target`.

use super::Cx;
use crate::diag::Diag;
use crate::syntax::Span;

impl Cx<'_> {
    fn name_of(&self, span: Span) -> String {
        self.m
            .sources
            .files
            .get(span.file.0 as usize)
            .map_or_else(String::new, |f| f.name.clone())
    }

    /// `d`, primary at `at` (with `label`), its own place as a note saying `what` it is.
    fn moved(&self, mut d: Diag, at: Span, label: String, what: &str) -> Diag {
        let Some(was) = d.span else { return d };
        let note = format!("{what}, in {}", self.name_of(was));
        d.span = Some(at);
        d.label = label;
        d.note(was, note)
    }

    /// A required field `full` that a file (other than the one the problem points into)
    /// drops: shown at the `drop`.
    pub(super) fn blame_drop(&self, full: &str, d: Diag) -> Diag {
        let plain = |p: &str| p.replace("[*]", "").replace("[]", "");
        let want = plain(full);
        let drop = self
            .m
            .drops
            .iter()
            .find(|(p, s)| plain(p) == want && Some(s.file) != d.span.map(|x| x.file));
        match drop {
            Some((_, at)) => {
                let label = format!("`{full}` dropped here, and the contract requires it");
                let d = self.moved(d, *at, label, "the contract that requires it is named here");
                d.help("keep the field (remove this drop), or assign it again in this file")
            }
            None => d,
        }
    }

    /// A param declared in a used file and left unset: shown at the root file's `use`
    /// that reads that file.
    pub(super) fn blame_use(&self, d: Diag, name: &str) -> Diag {
        let Some(file) = d.span.map(|s| s.file).filter(|f| *f != self.m.root) else {
            return d;
        };
        match self.m.use_leading_to(file) {
            Some(at) => {
                let label = format!("this use needs `param {name} = …` in this file");
                let d = self.moved(d, at, label, "the param is declared here");
                d.help(format!("set it in this file: `param {name} = …` (or for one run with --param {name}=…)"))
            }
            None => d,
        }
    }

    /// A unit or type mismatch in a line of a used file, while the contract is named by
    /// another file (one that uses it): shown at that `target`.
    pub(super) fn blame_target(&self, d: Diag, label: String) -> Diag {
        let (Some(at), Some((_, target))) = (d.span, self.m.target.as_ref()) else {
            return d;
        };
        if at.file == target.file {
            return d;
        }
        // Only when the file with the `target` uses the one with the line.
        let mut by = at.file;
        let mut reaches = false;
        for _ in 0..=self.m.uses.len() {
            match self.m.uses.iter().find(|u| u.used == by) {
                Some(u) if u.by == target.file => {
                    reaches = true;
                    break;
                }
                Some(u) => by = u.by,
                None => break,
            }
        }
        if !reaches {
            return d;
        }
        let d = self.moved(d, *target, label, "the value is written here");
        let help = d.help.clone().unwrap_or_default();
        d.help(format!(
            "override the field in this file, its value converted ({help})"
        ))
    }
}
