//! The page's budget of workers, which its timeline widgets share: however many
//! widgets a page has, no more workers run at once than the larger of the core count
//! and the largest pool one widget asks for. A widget's run waits, first come first
//! served, until its workers fit.

/// A widget on the page.
pub type WidgetId = u32;

#[derive(Debug)]
pub struct Budget {
    cores: usize,
    /// The pool size each widget on the page may ask for. (A page has a handful of
    /// widgets: lists, not maps.)
    asks: Vec<(WidgetId, usize)>,
    /// Runs holding workers, and how many.
    granted: Vec<(WidgetId, usize)>,
    /// Runs waiting for workers, oldest first.
    waiting: Vec<(WidgetId, usize)>,
}

impl Budget {
    pub fn new(cores: usize) -> Budget {
        Budget { cores: cores.max(1), asks: Vec::new(), granted: Vec::new(), waiting: Vec::new() }
    }

    /// Workers that may be busy at once.
    pub fn limit(&self) -> usize {
        self.asks.iter().map(|&(_, n)| n).fold(self.cores, usize::max)
    }

    /// Workers held now.
    pub fn in_use(&self) -> usize {
        self.granted.iter().map(|&(_, n)| n).sum()
    }

    /// `widget` is on the page and its runs need `workers`. Returns runs this lets go.
    pub fn declare(&mut self, widget: WidgetId, workers: usize) -> Vec<WidgetId> {
        set(&mut self.asks, widget, workers.max(1));
        self.grant()
    }

    /// `widget` left the page: its ask, its waiting run and its workers go. Returns
    /// runs this lets go.
    pub fn withdraw(&mut self, widget: WidgetId) -> Vec<WidgetId> {
        self.asks.retain(|(w, _)| *w != widget);
        self.waiting.retain(|(w, _)| *w != widget);
        self.granted.retain(|(w, _)| *w != widget);
        self.grant()
    }

    /// A run of `widget` wants `workers`: true if it may start now, else it waits
    /// until a later call returns its id.
    pub fn request(&mut self, widget: WidgetId, workers: usize) -> bool {
        if !self.asks.iter().any(|(w, _)| *w == widget) {
            self.asks.push((widget, workers.max(1)));
        }
        self.waiting.push((widget, workers.max(1)));
        self.grant().contains(&widget)
    }

    /// `widget`'s run ended, or was stopped while it waited: its workers, or its place
    /// in the queue, are free. Returns runs this lets go.
    pub fn release(&mut self, widget: WidgetId) -> Vec<WidgetId> {
        self.granted.retain(|(w, _)| *w != widget);
        self.waiting.retain(|(w, _)| *w != widget);
        self.grant()
    }

    /// Whether `widget` has a run waiting.
    pub fn is_waiting(&self, widget: WidgetId) -> bool {
        self.waiting.iter().any(|(w, _)| *w == widget)
    }

    /// Lets waiting runs go in order while the first fits. A run asking for more than
    /// the limit gets the limit: its pool then queues jobs, as a pool of that size would.
    fn grant(&mut self) -> Vec<WidgetId> {
        let mut started = Vec::new();
        while let Some(&(widget, workers)) = self.waiting.first() {
            let workers = workers.min(self.limit());
            if self.in_use() + workers > self.limit() {
                break;
            }
            self.waiting.remove(0);
            set(&mut self.granted, widget, workers);
            started.push(widget);
        }
        started
    }
}

/// Sets `widget`'s number in `list`.
fn set(list: &mut Vec<(WidgetId, usize)>, widget: WidgetId, n: usize) {
    match list.iter_mut().find(|(w, _)| *w == widget) {
        Some((_, old)) => *old = n,
        None => list.push((widget, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_the_cores_or_the_largest_ask() {
        let mut budget = Budget::new(2);
        assert_eq!(budget.limit(), 2);
        budget.declare(1, 3);
        budget.declare(2, 1);
        assert_eq!(budget.limit(), 3);
        budget.withdraw(1);
        assert_eq!(budget.limit(), 2);
    }

    #[test]
    fn runs_wait_their_turn_in_order() {
        let mut budget = Budget::new(2);
        for (widget, ask) in [(1, 3), (2, 2), (3, 1)] {
            budget.declare(widget, ask);
        }
        assert!(budget.request(1, 3));
        assert!(!budget.request(2, 2));
        assert!(!budget.request(3, 1), "first come, first served: 3 waits behind 2");
        assert!(budget.is_waiting(3));
        assert_eq!(budget.release(1), [2, 3]);
        assert_eq!(budget.in_use(), 3);
    }

    #[test]
    fn a_widget_leaving_frees_its_workers_and_its_place() {
        let mut budget = Budget::new(2);
        budget.declare(1, 2);
        budget.declare(2, 2);
        budget.declare(3, 2);
        assert!(budget.request(1, 2));
        assert!(!budget.request(2, 2));
        assert!(!budget.request(3, 2));
        assert_eq!(budget.withdraw(2), Vec::<WidgetId>::new(), "2 gave up its place; 1 still runs");
        assert_eq!(budget.withdraw(1), [3]);
        assert_eq!(budget.in_use(), 2);
    }

    #[test]
    fn a_run_stopped_while_it_waits_gives_up_its_place_but_not_its_ask() {
        let mut budget = Budget::new(2);
        budget.declare(1, 2);
        budget.declare(2, 2);
        assert!(budget.request(1, 2));
        assert!(!budget.request(2, 2));
        assert_eq!(budget.release(2), Vec::<WidgetId>::new());
        assert!(!budget.is_waiting(2));
        assert_eq!(budget.release(1), Vec::<WidgetId>::new(), "2 no longer waits");
        assert_eq!(budget.in_use(), 0);
        assert!(budget.request(2, 2), "its next run starts");
    }

    #[test]
    fn never_more_in_use_than_the_limit() {
        // Six widgets asking 1..=6 workers, runs requested and released in a churn.
        let mut budget = Budget::new(2);
        for w in 1..=6 {
            budget.declare(w, w as usize);
        }
        let mut running: Vec<WidgetId> = Vec::new();
        for round in 0..50u32 {
            let widget = round % 6 + 1;
            if running.contains(&widget) {
                running.retain(|w| *w != widget);
                running.extend(budget.release(widget));
            } else if !budget.is_waiting(widget) && budget.request(widget, widget as usize) {
                running.push(widget);
            }
            assert!(budget.in_use() <= budget.limit(), "round {round}: {} > {}", budget.in_use(), budget.limit());
        }
    }
}
