//! The input shape of a program (issue 16: run plans are made on the run side): which
//! parts of an order [`crate::program::Program`] can read, found from its compiled nodes,
//! so that [`parse_order`] builds only those ([`crate::program::input`] holds the shape and
//! its parser).

use crate::path::query_prefix;
use crate::program::func::Reads;
use crate::program::input::{steps_of, Place, Shape, Step};
use crate::program::{BodyOp, Global, Loop, Node, Op, Program, Tail};

/// The input shape of `p`, found the first time it is asked for.
pub fn shape(p: &Program) -> &Shape {
    p.input.get_or_init(|| of(p))
}

/// Parses an order's JSON text, building only what `p` can read.
pub fn parse_order(p: &Program, text: &str) -> serde_json::Result<serde_json::Value> {
    shape(p).parse(text)
}

/// What `program` can read of an order.
pub fn of(program: &Program) -> Shape {
    let mut a = Analysis {
        p: program,
        root: Shape::default(),
        give_up: false,
        global_places: vec![None; program.globals.len()],
        busy: vec![false; program.globals.len()],
        locals: Vec::new(),
    };
    a.program();
    if a.give_up {
        Shape::whole()
    } else {
        a.root
    }
}

/// Finds what a program reads. A value's "places" are where in the order it may come
/// from, when it is a value of the order passed along (a path, a let holding one, a
/// loop variable, `first(…)`, `a ?? b`); such a value used only through paths below it
/// needs only those paths, any other use needs it whole.
struct Analysis<'p> {
    p: &'p Program,
    root: Shape,
    /// Something could not be followed: keep the whole order.
    give_up: bool,
    global_places: Vec<Option<Option<Vec<Place>>>>,
    busy: Vec<bool>,
    /// Places of the current top-level loop's locals.
    locals: Vec<Option<Vec<Place>>>,
}

impl<'p> Analysis<'p> {
    fn program(&mut self) {
        let p = self.p;
        if let Some(n) = &p.order_id {
            self.use_whole(n);
        }
        for r in &p.requires {
            self.use_whole(&r.cond);
        }
        for (g, global) in p.globals.iter().enumerate() {
            match global {
                // A let is evaluated when first read: what it walks must be there.
                Global::Let(_) => {
                    if let Some(places) = self.global(g as u32) {
                        self.keep_all(&places, false);
                    }
                }
                Global::Field(n, _) => self.use_whole(n),
                Global::Loop(l) => {
                    self.locals.clear();
                    self.run_loop(l);
                    self.locals.clear();
                }
            }
        }
    }

    fn keep_all(&mut self, places: &[Place], whole: bool) {
        for pl in places {
            self.root.insert(pl, whole);
        }
    }

    fn set_local(&mut self, i: u32, places: Option<Vec<Place>>) {
        let i = i as usize;
        if self.locals.len() <= i {
            self.locals.resize(i + 1, None);
        }
        self.locals[i] = places;
    }

    fn run_loop(&mut self, l: &Loop) {
        for (slot, n) in &l.bindings {
            let places = self.places_or_use(n).map(with_elements);
            if let Some(ps) = &places {
                self.keep_all(ps, false);
            }
            self.set_local(*slot, places);
        }
        for op in &l.body {
            match op {
                BodyOp::Let(i, n) => {
                    let places = self.places_or_use(n);
                    if let Some(ps) = &places {
                        self.keep_all(ps, false);
                    }
                    self.set_local(*i, places);
                }
                BodyOp::Require(n, _) => self.use_whole(n),
                BodyOp::Field(i, n, _) => {
                    let places = self.places_or_use(n);
                    if let Some(ps) = &places {
                        self.keep_all(ps, true);
                    }
                    self.set_local(*i, places);
                }
                BodyOp::Loop(i, inner) => {
                    self.run_loop(inner);
                    self.set_local(*i, None);
                }
            }
        }
    }

    /// The places of global `g` (a let or a field), computed once.
    fn global(&mut self, g: u32) -> Option<Vec<Place>> {
        let gi = g as usize;
        if let Some(done) = self.global_places.get(gi).cloned().flatten() {
            return done;
        }
        if self.busy.get(gi).copied().unwrap_or(true) {
            self.give_up = true;
            return None;
        }
        self.busy[gi] = true;
        // Globals are read from loops too: their own definitions see no locals.
        let saved = std::mem::take(&mut self.locals);
        let p = self.p;
        let r = match &p.globals[gi] {
            Global::Let(n) | Global::Field(n, _) => self.places_or_use(n),
            Global::Loop(_) => None,
        };
        self.locals = saved;
        self.busy[gi] = false;
        self.global_places[gi] = Some(r.clone());
        r
    }

    fn local(&mut self, i: u32) -> Option<Vec<Place>> {
        match self.locals.get(i as usize) {
            Some(p) => p.clone(),
            None => {
                // A local read before it is set cannot be followed.
                self.give_up = true;
                None
            }
        }
    }

    /// Below a variable's places, a path tail.
    fn below(&mut self, base: Option<Vec<Place>>, tail: &Tail) -> Option<Vec<Place>> {
        let base = base?;
        match &tail.segs {
            Some(segs) => {
                let more = steps_of(segs);
                Some(
                    base.into_iter()
                        .map(|mut pl| {
                            pl.extend(more.iter().cloned());
                            pl
                        })
                        .collect(),
                )
            }
            None => {
                // A query below a variable: keep the variable's value whole.
                self.keep_all(&base, true);
                Some(base)
            }
        }
    }

    /// Where `n`'s value may come from in the order, when it is a value of the order
    /// passed along (`None` when it is computed; then what computing it reads is kept).
    /// Each node is visited once: a chain of `if`/`??` of any length costs its length.
    fn places_or_use(&mut self, n: &Node) -> Option<Vec<Place>> {
        match &n.code {
            Op::Src(path, text) => match path {
                crate::path::PathCode::Single(segs) | crate::path::PathCode::Multi(segs) => {
                    Some(vec![steps_of(segs)])
                }
                crate::path::PathCode::Query(_) => {
                    // A query reads anything below its simple start (all of the order when a
                    // filter of it reads `$`).
                    let prefix = steps_of(&query_prefix(text).unwrap_or_default());
                    self.root.insert(&prefix, true);
                    Some(vec![prefix])
                }
            },
            Op::Local(i) => self.local(*i),
            Op::Global(g) => self.global(*g),
            Op::LocalPath(i, t) => {
                let base = self.local(*i);
                self.below(base, t)
            }
            Op::GlobalPath(g, t) => {
                let base = self.global(*g);
                self.below(base, t)
            }
            Op::Call(f, args) if matches!(f.reads(), Reads::Element | Reads::Passes) => {
                let (first, rest) = args.split_first()?;
                for a in rest {
                    self.use_whole(a);
                }
                let ps = self.places_or_use(first)?;
                if f.reads() == Reads::Passes {
                    return Some(ps);
                }
                Some(with_elements(ps))
            }
            Op::Binary(crate::syntax::ast::BinOp::Coalesce, l, r) => {
                let a = self.places_or_use(l);
                let b = self.places_or_use(r);
                union(a, b)
            }
            Op::If(c, t, e) => {
                self.use_whole(c);
                let a = self.places_or_use(t);
                let b = self.places_or_use(e);
                union(a, b)
            }
            _ => {
                self.use_children(n);
                None
            }
        }
    }

    /// `n`'s value is used as a whole: printed, compared, counted, converted.
    fn use_whole(&mut self, n: &Node) {
        if let Some(ps) = self.places_or_use(n) {
            self.keep_all(&ps, true);
        }
    }

    /// `n`'s value is only counted (`count`, `len`) or compared: of an object or array
    /// only its kind and its number of elements matter, never what is inside.
    fn use_shallow(&mut self, n: &Node, counted: bool) {
        if let Some(ps) = self.places_or_use(n) {
            let ps = if counted { with_elements(ps) } else { ps };
            self.keep_all(&ps, false);
        }
    }

    fn use_children(&mut self, n: &Node) {
        use crate::syntax::ast::BinOp;
        match &n.code {
            Op::Lookup { key, .. } => self.use_whole(key),
            Op::Call(f, args) if f.reads() == Reads::Counted => {
                args.iter().for_each(|a| self.use_shallow(a, true))
            }
            Op::Call(_, args) => args.iter().for_each(|a| self.use_whole(a)),
            Op::Unary(_, a) => self.use_whole(a),
            Op::Binary(
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
                l,
                r,
            ) => {
                self.use_shallow(l, false);
                self.use_shallow(r, false);
            }
            Op::Binary(_, l, r) => {
                self.use_whole(l);
                self.use_whole(r);
            }
            Op::If(c, t, e) => {
                self.use_whole(c);
                self.use_whole(t);
                self.use_whole(e);
            }
            // Paths are places (handled by `places`); built values and constants read
            // nothing of the order.
            Op::Const(_)
            | Op::Out(..)
            | Op::Src(..)
            | Op::Local(_)
            | Op::Global(_)
            | Op::LocalPath(..)
            | Op::GlobalPath(..) => {}
        }
    }
}

/// Each place and the elements there: a value that is a list of matches gives its
/// matches, one that is an array gives its elements.
/// A place met twice is kept once: `first(first(x))` gives x, x[*], x[*][*], not 2^n.
fn with_elements(ps: Vec<Place>) -> Vec<Place> {
    let mut out = Vec::with_capacity(ps.len() * 2);
    for pl in ps {
        let mut e = pl.clone();
        e.push(Step::Elem);
        push_new(&mut out, pl);
        push_new(&mut out, e);
    }
    out
}

fn push_new(out: &mut Vec<Place>, pl: Place) {
    if !out.contains(&pl) {
        out.push(pl);
    }
}

fn union(a: Option<Vec<Place>>, b: Option<Vec<Place>>) -> Option<Vec<Place>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            // The shorter goes into the longer: a chain of n costs n², not n³.
            let (mut a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            for pl in b {
                push_new(&mut a, pl);
            }
            Some(a)
        }
        (a, b) => a.or(b),
    }
}
