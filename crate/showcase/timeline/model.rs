//! The timeline's drawing model: lanes and bars laid out from job records, the visible
//! time window (zoom and pan), what to draw for it, and which bar is under the pointer.
//! Plain data and arithmetic, tested on the host; the browser only replays the shapes
//! on a canvas (`canvas`).

use std::sync::Arc;

use web_executors::observe::log::{LogLine, MAIN_PID, MAIN_THREAD};
use web_executors::observe::record::{JobRecord, JobState, Outcome, Progress, Worker};

/// One row: the main thread, or a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub worker: Worker,
    /// As the lane's label shows it: process workers as `PID 10001`.
    pub title: String,
}

/// One job. Times are milliseconds from the layout's origin.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub id: u64,
    pub lane: usize,
    pub label: Arc<str>,
    /// Index of the job's function name in `Layout::kinds`: its colour.
    pub kind: usize,
    pub submitted: f64,
    /// None for a job no worker took (still queued, or cancelled there).
    pub started: Option<f64>,
    /// When it settled, or "now" for a job still open.
    pub end: f64,
    pub progress: Progress,
}

/// A log line, as a tick on its lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub lane: usize,
    pub time: f64,
    /// Its place in the lines the layout was made from.
    pub line: usize,
}

/// Lanes, bars and marks of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// Milliseconds since the Unix epoch of time 0: the first submission or line.
    pub origin: f64,
    /// The main thread first, then workers in the order they first began a job.
    pub lanes: Vec<Lane>,
    /// In submission order.
    pub bars: Vec<Bar>,
    pub marks: Vec<Mark>,
    /// Function names in order of first submission: `blocks`, `cpu_task`.
    pub kinds: Vec<String>,
    /// The end of the run so far: its last job or line, or the time it has reached
    /// (a run goes on after its last job while main sleeps).
    pub end: f64,
}

/// The function name of a call's label: `blocks` of `blocks(3)`.
pub fn kind_of(label: &str) -> &str {
    label.split('(').next().unwrap_or(label)
}

impl Layout {
    /// Lays out `records` and `lines` as of `now` (epoch ms): the time the run has
    /// reached, which ends open bars and the axis (now while the run goes on, its end
    /// once it has ended).
    pub fn new(records: &[JobRecord], lines: &[LogLine], now: f64) -> Layout {
        let mut layout = Layout::default();
        layout.update(records, lines, 0, now);
        layout
    }

    /// Lays out again what [`Layout::new`] would, from this layout of the same run a
    /// frame ago: `lines_kept` of `lines` (the first ones) are those it was made from,
    /// unchanged. A live timeline does this every frame, so it reuses what it can: the
    /// bars' labels, and the ticks of the lines it has seen.
    pub fn update(&mut self, records: &[JobRecord], lines: &[LogLine], lines_kept: usize, now: f64) {
        let origin = records.iter().map(|r| r.submitted).chain(lines.iter().map(|l| l.time)).fold(f64::INFINITY, f64::min);
        if !origin.is_finite() {
            *self = Layout::default();
            return;
        }
        // Lanes: the main thread, then each worker by the time it first began a job.
        let mut firsts: Vec<(&Worker, f64)> = Vec::new();
        for record in records {
            if let (Some(started), Some(worker)) = (record.started, &record.worker) {
                match firsts.iter_mut().find(|(w, _)| *w == worker) {
                    Some((_, first)) => *first = first.min(started),
                    None => firsts.push((worker, started)),
                }
            }
        }
        firsts.sort_by(|a, b| a.1.total_cmp(&b.1));
        let workers = firsts.into_iter().map(|(worker, _)| worker);
        let lanes: Vec<Lane> = [&Worker::Main].into_iter().chain(workers).map(|w| Lane { worker: w.clone(), title: w.title() }).collect();
        // Ticks stay where they were unless time 0 or the lanes moved.
        let lines_kept = if origin == self.origin && lanes == self.lanes { lines_kept.min(self.marks.len()) } else { 0 };
        let lane_of = |worker: &Worker| lanes.iter().position(|lane| lane.worker == *worker);
        let mut end = now - origin;
        let old_bars = std::mem::take(&mut self.bars);
        self.kinds.clear();
        let kinds = &mut self.kinds;
        self.bars = records
            .iter()
            .enumerate()
            .map(|(at, r)| {
                let kind = kind_of(&r.label);
                let kind = kinds.iter().position(|k| k == kind).unwrap_or_else(|| {
                    kinds.push(kind.to_owned());
                    kinds.len() - 1
                });
                let started = r.started.filter(|_| r.worker.is_some()).map(|t| t - origin);
                let bar_end = r.finished.unwrap_or(now) - origin;
                end = end.max(bar_end);
                // A label is copied once: the same job in the same place keeps its own.
                let label = match old_bars.get(at) {
                    Some(old) if old.id == r.id => old.label.clone(),
                    _ => Arc::from(r.label.as_str()),
                };
                Bar {
                    id: r.id,
                    lane: r.worker.as_ref().and_then(lane_of).unwrap_or(0),
                    label,
                    kind,
                    submitted: r.submitted - origin,
                    started,
                    end: bar_end,
                    progress: r.progress(),
                }
            })
            .collect();
        self.marks.truncate(lines_kept);
        let lane_of_line = |line: &LogLine| match (line.process, &*line.thread) {
            (MAIN_PID, MAIN_THREAD) => Some(0),
            (MAIN_PID, thread) => lanes.iter().position(|lane| matches!(&lane.worker, Worker::Thread(t) if **t == *thread)),
            (pid, _) => lanes.iter().position(|lane| lane.worker == Worker::Process(pid)),
        };
        let marks = lines.iter().enumerate().skip(lines_kept).map(|(at, line)| Mark {
            lane: lane_of_line(line).unwrap_or(0),
            time: line.time - origin,
            line: at,
        });
        self.marks.extend(marks);
        if let Some(last) = self.marks.last() {
            end = end.max(last.time);
        }
        (self.origin, self.lanes, self.end) = (origin, lanes, end);
    }
}

/// The canvas's geometry in CSS pixels: a label column, a time axis on top, lanes below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    pub width: f64,
    pub height: f64,
    /// Width of the lane-title column on the left.
    pub gutter: f64,
    /// Height of the time axis.
    pub axis: f64,
    pub lane_height: f64,
}

impl Plot {
    /// The width the bars have, right of the titles: at least a pixel, however narrow
    /// the canvas.
    pub fn bars_width(&self) -> f64 {
        (self.width - self.gutter).max(1.0)
    }
}

/// A narrow screen's title column is narrower, so that the bars keep most of it.
const NARROW: f64 = 520.0;
const AXIS: f64 = 22.0;
const MIN_LANE: f64 = 14.0;
const MAX_LANE: f64 = 34.0;
/// Advance of one character of the bar labels' 11 px monospace font.
pub const CHAR_WIDTH: f64 = 6.7;
/// The widest advance of a character of the axis labels' 12 px sans-serif font
/// (digits, a space, `ms`, taken together): room enough, in any engine's font.
const AXIS_CHAR_WIDTH: f64 = 7.5;
/// A log line's tick: its width and height at the top of its lane.
const MARK_WIDTH: f64 = 2.0;
const MARK_HEIGHT: f64 = 8.0;
/// How far from a tick or a bar (px) the pointer still points at it.
const REACH: f64 = 4.0;

impl Plot {
    /// `lanes` lanes in `width` × `height`; the height it needs may be more (see
    /// [`Plot::wanted_height`]).
    pub fn new(width: f64, height: f64, lanes: usize) -> Plot {
        let gutter = if width < NARROW { 84.0 } else { 170.0 };
        let lane_height = ((height - AXIS) / lanes.max(1) as f64).clamp(MIN_LANE, MAX_LANE);
        Plot { width, height, gutter, axis: AXIS, lane_height }
    }

    /// The height that shows `lanes` lanes at their tallest.
    pub fn wanted_height(lanes: usize) -> f64 {
        AXIS + lanes.max(1) as f64 * MAX_LANE
    }

    fn lane_top(&self, lane: usize) -> f64 {
        self.axis + lane as f64 * self.lane_height
    }
}

/// The time window on screen, in ms from the layout's origin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub from: f64,
    pub to: f64,
}

/// The narrowest window: a microsecond, where the clocks stop being exact anyway.
const MIN_SPAN: f64 = 0.001;

impl View {
    /// The whole layout, with a little room on the right.
    pub fn fit(layout: &Layout) -> View {
        View { from: 0.0, to: layout.end.max(1.0) * 1.03 }
    }

    fn span(&self) -> f64 {
        self.to - self.from
    }

    /// The x of time `t`.
    pub fn x(&self, t: f64, plot: &Plot) -> f64 {
        plot.gutter + (t - self.from) / self.span() * plot.bars_width()
    }

    /// The time at `x`.
    pub fn t(&self, x: f64, plot: &Plot) -> f64 {
        self.from + (x - plot.gutter) / plot.bars_width() * self.span()
    }

    /// This view moved (and narrowed if need be) to lie within `whole`: zoom and pan
    /// stay on the run, never before its start or past its end.
    fn within(self, whole: &View) -> View {
        let span = self.span().clamp(MIN_SPAN, whole.span().max(MIN_SPAN));
        let from = self.from.clamp(whole.from, (whole.to - span).max(whole.from));
        View { from, to: from + span }
    }

    /// Zoomed by `factor` (over 1 zooms in) about `x`, whose time stays put.
    /// Kept within `whole` (the fitted view), as every view is.
    pub fn zoom(&self, x: f64, factor: f64, plot: &Plot, whole: &View) -> View {
        if !(factor.is_finite() && factor > 0.0 && x.is_finite()) {
            return *self;
        }
        let at = self.t(x.clamp(plot.gutter, plot.width.max(plot.gutter)), plot);
        let span = (self.span() / factor).max(MIN_SPAN);
        let share = (at - self.from) / self.span();
        View { from: at - share * span, to: at - share * span + span }.within(whole)
    }

    /// Moved by `dx` pixels: dragging right shows earlier times. Kept within `whole`.
    pub fn pan(&self, dx: f64, plot: &Plot, whole: &View) -> View {
        if !dx.is_finite() {
            return *self;
        }
        let dt = dx / plot.bars_width() * self.span();
        View { from: self.from - dt, to: self.to - dt }.within(whole)
    }

    /// Axis ticks at least `min_gap` px apart, on a 1-2-5 step: (x, label).
    pub fn ticks(&self, plot: &Plot, min_gap: f64) -> Vec<(f64, String)> {
        let wanted = self.span() * min_gap / plot.bars_width();
        // The largest power of ten not above `wanted`, 10^exponent, found without
        // logarithms (which would bring libm's pow and log10 into the wasm).
        let mut exponent = 0i32;
        if wanted.is_finite() && wanted > 0.0 {
            while exponent < 308 && 10f64.powi(exponent + 1) <= wanted {
                exponent += 1;
            }
            while exponent > -308 && 10f64.powi(exponent) > wanted {
                exponent -= 1;
            }
        }
        let magnitude = 10f64.powi(exponent);
        let (step, exponent) = [(1.0, exponent), (2.0, exponent), (5.0, exponent), (10.0, exponent + 1)]
            .into_iter()
            .map(|(m, e)| (m * magnitude, e))
            .find(|(s, _)| *s >= wanted)
            .unwrap_or((10.0 * magnitude, exponent + 1));
        let decimals = if step >= 1.0 { 0 } else { (-exponent) as usize };
        let first = (self.from / step).ceil() as i64;
        let last = (self.to / step).floor() as i64;
        // However odd the view (a canvas narrower than its titles), never more ticks
        // than a screen can show.
        (first..=last.min(first.saturating_add(200)))
            .map(|i| {
                let t = i as f64 * step;
                (self.x(t, plot), format!("{t:.decimals$} ms"))
            })
            .collect()
    }
}

/// What a shape is painted with; the canvas maps each to a colour of its theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Paint {
    /// Every other lane's background.
    LaneStripe,
    Grid,
    AxisText,
    LaneTitle,
    /// Time spent waiting in the queue.
    Queue,
    /// A finished job, by kind.
    Kind(usize),
    /// A job still running, by kind (lighter).
    Live(usize),
    Failed,
    TimedOut,
    /// Outline of a job cancelled while queued.
    Cancelled,
    /// A label on a bar.
    BarText,
    /// A log line's tick.
    Mark,
    /// Outline of the selected bar.
    Selected,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        paint: Paint,
    },
    /// An outline (1.5 px) of the rectangle.
    Frame {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        paint: Paint,
    },
    /// Text with its left end at `x` and its middle at `y`.
    Text {
        x: f64,
        y: f64,
        text: String,
        paint: Paint,
    },
}

/// Where a bar is on screen: its run part, or its queue part for a job never run.
fn bar_span(bar: &Bar, view: &View, plot: &Plot) -> (f64, f64) {
    let (x0, x1) = (view.x(bar.started.unwrap_or(bar.submitted), plot), view.x(bar.end, plot));
    (x0, x1.max(x0 + 1.0))
}

fn paint_of(bar: &Bar) -> Paint {
    match bar.progress {
        Progress::Ended(Outcome::Ok) => Paint::Kind(bar.kind),
        Progress::Running | Progress::Pending => Paint::Live(bar.kind),
        Progress::Ended(Outcome::Failed | Outcome::Panicked | Outcome::WorkerDied) => Paint::Failed,
        Progress::Ended(Outcome::TimedOut) => Paint::TimedOut,
        Progress::Ended(Outcome::Cancelled) => Paint::Cancelled,
    }
}

/// Everything to draw for `view`, back to front. Bars off screen are left out, and a
/// bar hidden under the one before it in its lane (many tiny jobs in one pixel) too,
/// so a frame costs about one shape per pixel column per lane at most.
/// `selected`: a job to outline; `marked`: a log line (by place in the run) whose tick
/// stands out, the one the reader points at in the list of lines.
pub fn scene(layout: &Layout, view: &View, plot: &Plot, selected: Option<u64>, marked: Option<usize>) -> Vec<Shape> {
    if layout.lanes.is_empty() {
        let text = "No jobs yet: run the scenario".to_owned();
        return vec![Shape::Text { x: plot.gutter, y: plot.height / 2.0, text, paint: Paint::AxisText }];
    }
    let mut shapes = Vec::new();
    let lane_h = plot.lane_height;
    for lane in (1..layout.lanes.len()).step_by(2) {
        shapes.push(Shape::Rect { x: 0.0, y: plot.lane_top(lane), w: plot.width, h: lane_h, paint: Paint::LaneStripe });
    }
    let lanes_bottom = plot.lane_top(layout.lanes.len());
    // The last label so far: its shape's place and its right end.
    let mut last_label: Option<(usize, f64)> = None;
    for (x, label) in view.ticks(plot, 90.0) {
        shapes.push(Shape::Rect { x, y: plot.axis - 4.0, w: 1.0, h: lanes_bottom - plot.axis + 4.0, paint: Paint::Grid });
        // A label that would run off the right edge goes left of its tick; the label
        // before it gives way, as the run's end is the one to read.
        let width = label.chars().count() as f64 * AXIS_CHAR_WIDTH;
        let x = if x + 3.0 + width > plot.width { x - 3.0 - width } else { x + 3.0 };
        if let Some((at, right)) = last_label
            && right + 6.0 > x
        {
            shapes.remove(at);
        }
        last_label = Some((shapes.len(), x + width));
        shapes.push(Shape::Text { x, y: plot.axis / 2.0, text: label, paint: Paint::AxisText });
    }
    let visible = |x0: f64, x1: f64| x1 >= plot.gutter && x0 <= plot.width;
    // Queue waits: one strip along each lane's foot, the union of the waits in it.
    let mut waits: Vec<(usize, f64, f64)> = layout
        .bars
        .iter()
        .map(|b| (b.lane, view.x(b.submitted, plot), view.x(b.started.unwrap_or(b.end), plot)))
        .filter(|&(_, x0, x1)| visible(x0, x1))
        .collect();
    waits.sort_by(|a, b| (a.0, a.1).partial_cmp(&(b.0, b.1)).expect("finite"));
    let strip = (lane_h * 0.22).max(3.0);
    let mut open: Option<(usize, f64, f64)> = None;
    for wait in waits.into_iter().map(Some).chain([None]) {
        match (open, wait) {
            (Some((lane, x0, x1)), Some((l, w0, w1))) if l == lane && w0 <= x1 + 0.5 => open = Some((lane, x0, x1.max(w1))),
            (done, next) => {
                if let Some((lane, x0, x1)) = done {
                    let (x0, x1) = (x0.max(plot.gutter), x1.min(plot.width));
                    let y = plot.lane_top(lane) + lane_h - strip - 1.0;
                    shapes.push(Shape::Rect { x: x0, y, w: (x1 - x0).max(1.0), h: strip, paint: Paint::Queue });
                }
                open = next;
            }
        }
    }
    // Bars, in submission order. A bar under 2 px wide that starts within half a pixel
    // of the end of its lane's last bar of the same paint widens that one instead.
    // Wider bars keep a pixel's gap, so back-to-back jobs stay apart.
    let mut last: Vec<Option<(usize, Paint)>> = vec![None; layout.lanes.len()];
    let mut labels = Vec::new();
    for bar in layout.bars.iter().filter(|b| b.started.is_some() || b.progress == Progress::Ended(Outcome::Cancelled)) {
        let (x0, x1) = bar_span(bar, view, plot);
        if !visible(x0, x1) {
            continue;
        }
        let paint = paint_of(bar);
        let (x0, x1) = (x0.max(plot.gutter), x1.min(plot.width));
        if let Some((at, p)) = last[bar.lane]
            && p == paint
            && x1 - x0 < 2.0
            && let Shape::Rect { x, w, .. } = &mut shapes[at]
            && x0 >= *x
            && x0 <= *x + *w + 0.5
        {
            *w = w.max(x1 - *x);
            continue;
        }
        let y = plot.lane_top(bar.lane) + 2.0;
        let h = lane_h - strip - 4.0;
        if paint == Paint::Cancelled {
            shapes.push(Shape::Frame { x: x0, y, w: x1 - x0, h, paint });
        } else {
            last[bar.lane] = Some((shapes.len(), paint));
            let w = if x1 - x0 >= 3.0 { x1 - x0 - 1.0 } else { x1 - x0 };
            shapes.push(Shape::Rect { x: x0, y, w, h, paint });
        }
        let room = ((x1 - x0 - 6.0) / CHAR_WIDTH).floor();
        if room >= 3.0 && h >= 10.0 {
            let text: String = if bar.label.len() as f64 <= room {
                bar.label.to_string()
            } else {
                bar.label.chars().take(room as usize - 1).chain(['…']).collect()
            };
            labels.push(Shape::Text { x: x0 + 3.0, y: y + h / 2.0, text, paint: Paint::BarText });
        }
    }
    shapes.extend(labels);
    // Log ticks: one per pixel column and lane at most (a 10,000-job run logs 20,000).
    let mut last_tick = vec![f64::NEG_INFINITY; layout.lanes.len()];
    for mark in &layout.marks {
        let x = view.x(mark.time, plot).floor();
        if visible(x, x) && x > last_tick[mark.lane] {
            last_tick[mark.lane] = x;
            shapes.push(Shape::Rect { x, y: plot.lane_top(mark.lane), w: MARK_WIDTH, h: MARK_HEIGHT, paint: Paint::Mark });
        }
    }
    if let Some(mark) = marked.and_then(|line| layout.marks.iter().find(|m| m.line == line)) {
        let x = view.x(mark.time, plot).floor();
        if visible(x, x) {
            shapes.push(Shape::Rect { x: x - 1.0, y: plot.lane_top(mark.lane), w: MARK_WIDTH + 2.0, h: lane_h, paint: Paint::Selected });
        }
    }
    if let Some(bar) = selected.and_then(|id| layout.bars.iter().find(|b| b.id == id)) {
        let (x0, x1) = bar_span(bar, view, plot);
        let y = plot.lane_top(bar.lane) + 1.0;
        shapes.push(Shape::Frame { x: x0 - 1.0, y, w: x1 - x0 + 2.0, h: lane_h - 2.0, paint: Paint::Selected });
    }
    // Lane titles last, over the bars' left ends when zoomed.
    for (k, lane) in layout.lanes.iter().enumerate() {
        let room = ((plot.gutter - 10.0) / CHAR_WIDTH) as usize;
        let title: String = if lane.title.chars().count() <= room {
            lane.title.clone()
        } else {
            // The end of a worker's name tells workers apart: keep it.
            let skip = lane.title.chars().count() + 1 - room;
            ['…'].into_iter().chain(lane.title.chars().skip(skip)).collect()
        };
        shapes.push(Shape::Text { x: 6.0, y: plot.lane_top(k) + lane_h / 2.0, text: title, paint: Paint::LaneTitle });
    }
    shapes
}

/// The bar under (`x`, `y`), if any: the nearest within `REACH` px in that lane.
pub fn hit(layout: &Layout, view: &View, plot: &Plot, x: f64, y: f64) -> Option<u64> {
    if x < plot.gutter || y < plot.axis {
        return None;
    }
    let lane = ((y - plot.axis) / plot.lane_height) as usize;
    layout
        .bars
        .iter()
        .filter(|b| b.lane == lane && (b.started.is_some() || b.progress == Progress::Ended(Outcome::Cancelled)))
        .filter_map(|b| {
            let (x0, x1) = bar_span(b, view, plot);
            let distance = if x < x0 {
                x0 - x
            } else if x > x1 {
                x - x1
            } else {
                0.0
            };
            (distance <= REACH).then_some((distance, b.id))
        })
        .min_by(|a, b| a.0.partial_cmp(&b.0).expect("finite"))
        .map(|(_, id)| id)
}

/// What the pointer points at: a job's bar, or log lines' ticks.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Job(u64),
    /// The lines (their places in the layout's lines) whose ticks are within reach in
    /// that lane, oldest first: lines a few microseconds apart share a pixel.
    Lines(Vec<usize>),
}

/// What is under (`x`, `y`): log lines where the pointer is on their ticks' band at the
/// lane's top, or in a lane where no bar is in reach; else the bar, if any.
pub fn target(layout: &Layout, view: &View, plot: &Plot, x: f64, y: f64) -> Option<Target> {
    if x < plot.gutter - REACH || y < plot.axis {
        return None;
    }
    let lane = ((y - plot.axis) / plot.lane_height) as usize;
    let lines: Vec<usize> =
        layout.marks.iter().filter(|m| m.lane == lane && (view.x(m.time, plot) - x).abs() <= REACH).map(|m| m.line).collect();
    let job = hit(layout, view, plot, x, y);
    let on_ticks = y <= plot.lane_top(lane) + MARK_HEIGHT + 2.0;
    if !lines.is_empty() && (on_ticks || job.is_none()) { Some(Target::Lines(lines)) } else { job.map(Target::Job) }
}

/// Where job `id`'s bar is on screen, as [x, y, width, height] in CSS pixels, cut to
/// the plot; None when it is out of view (zoomed or panned away) or not drawn.
pub fn bar_box(layout: &Layout, view: &View, plot: &Plot, id: u64) -> Option<[f64; 4]> {
    let bar = layout.bars.iter().find(|b| b.id == id && (b.started.is_some() || b.progress == Progress::Ended(Outcome::Cancelled)))?;
    let (x0, x1) = bar_span(bar, view, plot);
    let (x0, x1) = (x0.max(plot.gutter), x1.min(plot.width));
    (x1 >= x0).then(|| [x0, plot.lane_top(bar.lane), x1 - x0, plot.lane_height])
}

/// The log lines whose ticks are in view, oldest first: the first `most` of them (their
/// places in the layout's lines), and how many there are in all.
pub fn lines_in_view(layout: &Layout, view: &View, most: usize) -> (Vec<usize>, usize) {
    let mut shown = Vec::new();
    let mut all = 0;
    for mark in layout.marks.iter().filter(|m| m.time >= view.from && m.time <= view.to) {
        if shown.len() < most {
            shown.push(mark.line);
        }
        all += 1;
    }
    (shown, all)
}

/// How a legend entry's swatch is drawn: as the timeline draws what it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swatch {
    Bar,
    Outline,
    /// The queue's strip along a lane's foot.
    Strip,
    /// A log line's tick.
    Tick,
}

/// One entry of the legend: what a colour and a shape mean, and how many of them the
/// run has (an entry with none stays, dimmed, so that the legend holds still).
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub paint: Paint,
    pub swatch: Swatch,
    pub count: usize,
}

/// The legend of `layout`: each job kind in its colour, then the ways a job can end
/// other than well, the queue's strip and the log's ticks.
pub fn legend(layout: &Layout) -> Vec<LegendEntry> {
    let jobs = |wanted: &dyn Fn(&Bar) -> bool| layout.bars.iter().filter(|b| wanted(b)).count();
    let ended = |bar: &Bar, outcomes: &[Outcome]| matches!(bar.progress, Progress::Ended(o) if outcomes.contains(&o));
    let entry = |label: &str, paint, swatch, count| LegendEntry { label: label.to_owned(), paint, swatch, count };
    let mut entries: Vec<LegendEntry> =
        layout.kinds.iter().enumerate().map(|(k, kind)| entry(kind, Paint::Kind(k), Swatch::Bar, jobs(&|b| b.kind == k))).collect();
    entries.extend([
        entry("failed", Paint::Failed, Swatch::Bar, jobs(&|b| ended(b, &[Outcome::Failed, Outcome::Panicked, Outcome::WorkerDied]))),
        entry("timed out", Paint::TimedOut, Swatch::Bar, jobs(&|b| ended(b, &[Outcome::TimedOut]))),
        entry("cancelled", Paint::Cancelled, Swatch::Outline, jobs(&|b| ended(b, &[Outcome::Cancelled]))),
        // Every job waits a few microseconds: those that waited over a millisecond count.
        entry("queued", Paint::Queue, Swatch::Strip, jobs(&|b| b.started.unwrap_or(b.end) - b.submitted > 1.0)),
        entry("log line", Paint::Mark, Swatch::Tick, layout.marks.len()),
    ]);
    entries
}

/// A log line as the tooltip and the list say it: its time in the run, its lane, its
/// logger and message.
pub fn line_text(layout: &Layout, line: &LogLine) -> [String; 3] {
    let lane = layout
        .lanes
        .iter()
        .find(|lane| lane.worker == Worker::of_line(line))
        .map_or_else(|| Worker::of_line(line).title(), |l| l.title.clone());
    [format!("{:.1} ms", line.time - layout.origin), lane, format!("{}: {}", line.logger, line.message)]
}

/// A direction for moving the selection with the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The previous bar in the lane.
    Left,
    Right,
    /// The bar nearest in time in the lane above.
    Up,
    Down,
}

/// The bar the keyboard moves to from `from` (the first bar if none is selected).
pub fn step(layout: &Layout, from: Option<u64>, step: Step) -> Option<u64> {
    let start = |b: &Bar| b.started.unwrap_or(b.submitted);
    let drawn: Vec<&Bar> =
        layout.bars.iter().filter(|b| b.started.is_some() || b.progress == Progress::Ended(Outcome::Cancelled)).collect();
    let Some(current) = from.and_then(|id| drawn.iter().find(|b| b.id == id)) else {
        return drawn.iter().min_by(|a, b| start(a).partial_cmp(&start(b)).expect("finite")).map(|b| b.id);
    };
    let by_time = |a: &&&Bar, b: &&&Bar| start(a).partial_cmp(&start(b)).expect("finite");
    let moved = match step {
        Step::Left => drawn.iter().filter(|b| b.lane == current.lane && start(b) < start(current)).max_by(by_time),
        Step::Right => drawn.iter().filter(|b| b.lane == current.lane && start(b) > start(current)).min_by(by_time),
        Step::Up | Step::Down => {
            let lanes: Vec<usize> =
                if step == Step::Up { (0..current.lane).rev().collect() } else { (current.lane + 1..layout.lanes.len()).collect() };
            let nearest = |lane: usize| {
                drawn
                    .iter()
                    .filter(|b| b.lane == lane)
                    .min_by(|a, b| (start(a) - start(current)).abs().partial_cmp(&(start(b) - start(current)).abs()).expect("finite"))
            };
            lanes.into_iter().find_map(nearest)
        }
    };
    Some(moved.map_or(current.id, |b| b.id))
}

/// What the tooltip says of a job: the call, where and how long it ran, its result.
pub fn details(record: &JobRecord) -> Vec<String> {
    let mut lines = vec![record.label.clone()];
    lines.push(match &record.worker {
        Some(worker) => format!("{} on {}", record.executor, worker.title()),
        None => format!("{} (no worker took it)", record.executor),
    });
    let queued = record.started.or(record.finished).map(|t| t - record.submitted);
    let ran = record.started.zip(record.finished).map(|(s, f)| f - s);
    let ms = |v: Option<f64>| v.map_or("…".to_owned(), |v| format!("{v:.1} ms"));
    lines.push(format!("queued {} · ran {}", ms(queued), ms(ran)));
    lines.push(match (&record.result, &record.error, record.state) {
        (_, Some(error), _) => error.clone(),
        (Some(result), None, _) => format!("result {result}"),
        (None, None, JobState::Finished) => "done".to_owned(),
        (None, None, JobState::Pending) => "pending".to_owned(),
        (None, None, JobState::Running) => "running".to_owned(),
        (None, None, JobState::Cancelled) => "cancelled".to_owned(),
    });
    lines
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use web_executors::observe::log::MAIN_PID;

    fn thread(name: &str) -> Option<Worker> {
        Some(Worker::Thread(Arc::from(name)))
    }

    fn record(id: u64, label: &str, worker: Option<Worker>, times: (f64, Option<f64>, Option<f64>)) -> JobRecord {
        let (submitted, started, finished) = times;
        JobRecord {
            id,
            run: 1,
            label: label.into(),
            executor: Arc::from("ThreadPoolExecutor-0"),
            worker,
            state: match (started, finished) {
                (_, Some(_)) => JobState::Finished,
                (Some(_), None) => JobState::Running,
                _ => JobState::Pending,
            },
            outcome: finished.map(|_| Outcome::Ok),
            submitted,
            started,
            finished,
            result: None,
            error: None,
            note: None,
        }
    }

    fn line(time: f64, thread: &str, process: u32) -> LogLine {
        said(time, thread, process, "m")
    }

    fn said(time: f64, thread: &str, process: u32, message: &str) -> LogLine {
        LogLine { time, process, thread: Arc::from(thread), logger: "main".into(), message: message.into(), run: 1 }
    }

    /// Scenario 4's shape: main logs, the task logs on its worker as it starts and ends,
    /// and main sleeps on past the job's end.
    fn run_in_executor() -> (Vec<JobRecord>, Vec<LogLine>) {
        let records = vec![record(0, "blocking_task(2000)", thread("asyncio_0"), (1000.0, Some(1000.4), Some(3000.6)))];
        let lines = vec![
            said(1000.0, "MainThread", MAIN_PID, "Main running the blocking task"),
            said(1000.5, "asyncio_0", MAIN_PID, "Task starting"),
            said(1000.6, "MainThread", MAIN_PID, "Main doing other things"),
            said(3000.5, "asyncio_0", MAIN_PID, "Task done"),
        ];
        (records, lines)
    }

    /// Scenario 1's shape: six jobs, three workers, the last three queued behind.
    fn six_on_three() -> Vec<JobRecord> {
        (0..6)
            .map(|i| {
                let worker = format!("ThreadPoolExecutor-0_{}", [1, 0, 2][i as usize % 3]);
                let start = 1000.0 + if i < 3 { 1.0 } else { 101.0 };
                record(i, &format!("blocks({i})"), thread(&worker), (1000.0, Some(start), Some(start + 100.0)))
            })
            .collect()
    }

    #[test]
    fn lanes_are_the_main_thread_then_workers_by_first_start() {
        let mut records = six_on_three();
        records[1].started = Some(1000.5); // worker _0 began first
        let layout = Layout::new(&records, &[], 1150.0);
        let titles: Vec<&str> = layout.lanes.iter().map(|l| l.title.as_str()).collect();
        assert_eq!(titles, ["MainThread", "ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1", "ThreadPoolExecutor-0_2"]);
        assert_eq!(layout.bars.iter().filter(|b| b.lane == 2).count(), 2);
        assert_eq!(layout.origin, 1000.0);
        assert_eq!(layout.end, 201.0);
        assert_eq!(layout.kinds, ["blocks"]);
    }

    #[test]
    fn process_workers_are_titled_by_pid_and_their_lines_land_on_their_lane() {
        let records = vec![record(0, "cpu_task(5)", Some(Worker::Process(10_001)), (0.0, Some(5.0), Some(50.0)))];
        let lines = [line(1.0, "MainThread", MAIN_PID), line(6.0, "MainThread", 10_001)];
        let layout = Layout::new(&records, &lines, 60.0);
        assert_eq!(layout.lanes[1].title, "PID 10001");
        assert_eq!(layout.marks, [Mark { lane: 0, time: 1.0, line: 0 }, Mark { lane: 1, time: 6.0, line: 1 }]);
    }

    #[test]
    fn bars_take_the_outcome_their_records_were_given_not_a_reading_of_the_error() {
        let mut failed = record(0, "http_get(\"x\")", thread("w"), (0.0, Some(1.0), Some(2.0)));
        failed.error = Some("cpu_task(9) timed out after 50 ms, said the job itself".into());
        failed.outcome = Some(Outcome::Failed);
        let mut timed_out = failed.clone();
        timed_out.error = Some("no words a reader could search for".into());
        timed_out.outcome = Some(Outcome::TimedOut);
        let mut cancelled = record(1, "blocks(5)", None, (0.0, None, Some(3.0)));
        cancelled.state = JobState::Cancelled;
        cancelled.outcome = Some(Outcome::Cancelled);
        let open = record(2, "blocks(6)", thread("w"), (0.0, Some(1.0), None));
        let waiting = record(3, "blocks(7)", None, (0.0, None, None));
        let layout = Layout::new(&[failed, timed_out, cancelled, open, waiting], &[], 10.0);
        let progress: Vec<Progress> = layout.bars.iter().map(|b| b.progress).collect();
        let ended = Progress::Ended;
        assert_eq!(
            progress,
            [ended(Outcome::Failed), ended(Outcome::TimedOut), ended(Outcome::Cancelled), Progress::Running, Progress::Pending]
        );
        assert_eq!(layout.bars[3].end, 10.0, "an open bar reaches now");
        assert_eq!(layout.bars[2].lane, 0, "a job no worker took sits on the main thread's lane");
    }

    fn plot() -> Plot {
        Plot::new(1170.0, 200.0, 4)
    }

    #[test]
    fn zoom_and_pan_stay_on_the_run_and_never_panic_on_any_view() {
        let whole = View { from: 0.0, to: 1000.0 };
        let plot = plot();
        let mut view = whole;
        // About 1,700 presses of `-` used to overflow the tick range.
        for _ in 0..2000 {
            view = view.zoom(600.0, 1.0 / 1.25, &plot, &whole);
            assert!(view.ticks(&plot, 90.0).len() <= 201);
        }
        assert_eq!(view, whole);
        assert_eq!(whole.pan(5000.0, &plot, &whole), whole, "no time before the start");
        let near = whole.zoom(600.0, 10.0, &plot, &whole).pan(-1e9, &plot, &whole);
        assert!((near.to - whole.to).abs() < 1e-9 && near.from > 0.0, "{near:?}");
        for factor in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            let zoomed = whole.zoom(600.0, factor, &plot, &whole);
            assert!(zoomed.from >= 0.0 && zoomed.to <= 1000.0 && zoomed.to > zoomed.from, "{factor}: {zoomed:?}");
        }
        // A canvas narrower than its titles.
        let narrow = Plot::new(40.0, 200.0, 4);
        for x in [0.0, 20.0, 80.0, f64::NAN] {
            let zoomed = whole.zoom(x, 2.0, &narrow, &whole);
            assert!(zoomed.ticks(&narrow, 90.0).len() <= 201);
            assert!(zoomed.x(500.0, &narrow).is_finite());
        }
    }

    #[test]
    fn zooming_keeps_the_time_under_the_pointer() {
        let view = View { from: 0.0, to: 1000.0 };
        let whole = view;
        let plot = plot();
        let x = 400.0;
        let before = view.t(x, &plot);
        let zoomed = view.zoom(x, 4.0, &plot, &whole);
        assert!((zoomed.t(x, &plot) - before).abs() < 1e-9);
        assert!((zoomed.to - zoomed.from - 250.0).abs() < 1e-9);
        let back = zoomed.zoom(x, 0.25, &plot, &whole);
        assert!((back.from - view.from).abs() < 1e-9 && (back.to - view.to).abs() < 1e-9);
    }

    #[test]
    fn panning_right_shows_earlier_times() {
        let plot = plot(); // 1000 px of plot
        let view = View { from: 100.0, to: 1100.0 }.pan(50.0, &plot, &View { from: 0.0, to: 5000.0 });
        assert_eq!((view.from, view.to), (50.0, 1050.0));
    }

    #[test]
    fn fit_shows_everything() {
        let layout = Layout::new(&six_on_three(), &[], 2000.0);
        let view = View::fit(&layout);
        let plot = plot();
        assert!(layout.bars.iter().all(|b| view.x(b.end, &plot) <= plot.width));
        assert_eq!(view.from, 0.0);
    }

    #[test]
    fn ticks_step_1_2_5_and_are_labelled_in_ms() {
        let plot = plot();
        let ticks = View { from: 0.0, to: 1000.0 }.ticks(&plot, 90.0);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0 ms", "100 ms", "200 ms", "300 ms", "400 ms", "500 ms", "600 ms", "700 ms", "800 ms", "900 ms", "1000 ms"]);
        let fine = View { from: 0.0, to: 0.5 }.ticks(&plot, 90.0);
        assert_eq!(fine[1].1, "0.05 ms");
    }

    #[test]
    fn ticks_are_those_logarithms_would_give() {
        // The step as first written, with libm's log10 and pow (now left out of the wasm).
        let by_logs = |view: &View, plot: &Plot, min_gap: f64| {
            let wanted = view.span() * min_gap / (plot.width - plot.gutter).max(1.0);
            let magnitude = 10f64.powf(wanted.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= wanted).unwrap_or(10.0 * magnitude);
            let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
            (step, decimals)
        };
        let plot = plot();
        let mut span = 0.001;
        while span < 1e9 {
            let view = View { from: 3.0, to: 3.0 + span };
            let (step, decimals) = by_logs(&view, &plot, 90.0);
            let ticks = view.ticks(&plot, 90.0);
            let first = (view.from / step).ceil() * step;
            assert_eq!(ticks[0].1, format!("{first:.decimals$} ms"), "span {span}");
            assert_eq!(ticks.len() as i64, (view.to / step).floor() as i64 - (view.from / step).ceil() as i64 + 1, "span {span}");
            span *= 1.37;
        }
    }

    #[test]
    fn the_scene_has_a_bar_per_job_with_labels_that_fit_and_queue_strips() {
        let layout = Layout::new(&six_on_three(), &[], 2000.0);
        let plot = plot();
        let shapes = scene(&layout, &View::fit(&layout), &plot, Some(4), None);
        let bars = shapes.iter().filter(|s| matches!(s, Shape::Rect { paint: Paint::Kind(0), .. })).count();
        assert_eq!(bars, 6);
        let texts: Vec<&str> = shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, paint: Paint::BarText, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["blocks(0)", "blocks(1)", "blocks(2)", "blocks(3)", "blocks(4)", "blocks(5)"]);
        // Jobs 3-5 waited ~100 ms; 0-2 ~1 ms: a strip in each worker lane.
        let strips = shapes.iter().filter(|s| matches!(s, Shape::Rect { paint: Paint::Queue, .. })).count();
        assert_eq!(strips, 3);
        assert_eq!(shapes.iter().filter(|s| matches!(s, Shape::Frame { paint: Paint::Selected, .. })).count(), 1);
    }

    #[test]
    fn ten_thousand_tiny_bars_cost_about_a_shape_per_pixel_column() {
        let records: Vec<JobRecord> = (0..10_000)
            .map(|i| {
                let t = i as f64 * 0.2;
                record(i, "echo(1)", thread(["w_0", "w_1"][i as usize % 2]), (t, Some(t), Some(t + 0.15)))
            })
            .collect();
        let layout = Layout::new(&records, &[], 0.0);
        let plot = plot();
        let shapes = scene(&layout, &View::fit(&layout), &plot, None, None);
        let bars = shapes.iter().filter(|s| matches!(s, Shape::Rect { paint: Paint::Kind(_), .. })).count();
        // Back to back at 0.2 px a job, each lane is one busy stretch.
        assert_eq!(bars, 2);
        let widths: Vec<f64> = shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect { w, paint: Paint::Kind(_), .. } => Some(*w),
                _ => None,
            })
            .collect();
        assert!(widths.iter().all(|w| *w > 900.0), "{widths:?}");
        // Zoomed to 20 ms, every bar in it is its own shape again.
        let zoomed = View { from: 1000.0, to: 1020.0 };
        let shapes = scene(&layout, &zoomed, &plot, None, None);
        let bars = shapes.iter().filter(|s| matches!(s, Shape::Rect { paint: Paint::Kind(_), .. })).count();
        assert!((100..=102).contains(&bars), "{bars}");
    }

    #[test]
    fn log_ticks_are_one_per_pixel_column_and_lane() {
        let lines: Vec<LogLine> = (0..20_000).map(|i| line(i as f64 * 0.1, "MainThread", MAIN_PID)).collect();
        let layout = Layout::new(&[], &lines, 2000.0);
        let shapes = scene(&layout, &View::fit(&layout), &plot(), None, None);
        let ticks = shapes.iter().filter(|s| matches!(s, Shape::Rect { paint: Paint::Mark, .. })).count();
        assert!((900..=1001).contains(&ticks), "{ticks} ticks for 1000 px");
    }

    #[test]
    fn a_layout_updated_frame_by_frame_is_the_layout_made_afresh() {
        let worker = |k: u64| thread(if k.is_multiple_of(2) { "ThreadPoolExecutor-0_0" } else { "ThreadPoolExecutor-0_1" });
        let all: Vec<JobRecord> = (0..40)
            .map(|i| record(i, &format!("blocks({i})"), worker(i), (i as f64, Some(i as f64 + 1.0), Some(i as f64 + 2.0))))
            .collect();
        let lines: Vec<LogLine> = (0..60u32)
            .map(|i| line(f64::from(i), if i.is_multiple_of(3) { "MainThread" } else { "ThreadPoolExecutor-0_1" }, MAIN_PID))
            .collect();
        let mut live = Layout::default();
        let mut kept = 0;
        for frame in 1..=4 {
            // Each frame: more jobs, and the last ones still running.
            let mut records = all[..frame * 10].to_vec();
            for r in records.iter_mut().rev().take(3) {
                r.finished = None;
            }
            let seen = &lines[..frame * 15];
            live.update(&records, seen, kept, 100.0);
            kept = seen.len();
            assert_eq!(live, Layout::new(&records, seen, 100.0), "frame {frame}");
        }
        // A worker that began earlier than the lanes so far moves them: ticks are laid out again.
        let mut records = all.clone();
        records.push(record(99, "early", thread("ThreadPoolExecutor-0_9"), (-5.0, Some(-4.0), Some(-3.0))));
        live.update(&records, &lines, kept, 100.0);
        assert_eq!(live, Layout::new(&records, &lines, 100.0));
    }

    #[test]
    fn the_line_pointed_at_in_the_list_has_its_tick_marked_where_it_is_drawn() {
        let lines: Vec<LogLine> = (0..4).map(|i| line(i as f64 * 100.0, "MainThread", MAIN_PID)).collect();
        let layout = Layout::new(&[], &lines, 400.0);
        let view = View::fit(&layout);
        let marked = |line| {
            scene(&layout, &view, &plot(), None, line)
                .into_iter()
                .filter_map(|s| match s {
                    Shape::Rect { x, paint: Paint::Selected, .. } => Some(x),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert!(marked(None).is_empty());
        let x = view.x(layout.marks[2].time, &plot()).floor();
        assert_eq!(marked(Some(2)), [x - 1.0], "one mark, on line 2's tick");
        assert!(marked(Some(9)).is_empty(), "no such line: nothing marked");
    }

    #[test]
    fn an_empty_timeline_says_so() {
        let shapes = scene(&Layout::default(), &View { from: 0.0, to: 1.0 }, &plot(), None, None);
        assert!(matches!(&shapes[..], [Shape::Text { text, .. }] if text.starts_with("No jobs yet")));
    }

    #[test]
    fn failed_and_cancelled_bars_are_painted_as_such() {
        let mut failed = record(0, "blocks(1)", thread("w"), (0.0, Some(1.0), Some(50.0)));
        failed.error = Some("boom".into());
        failed.outcome = Some(Outcome::Panicked);
        let mut cancelled = record(1, "blocks(2)", None, (0.0, None, Some(30.0)));
        cancelled.state = JobState::Cancelled;
        cancelled.outcome = Some(Outcome::Cancelled);
        let layout = Layout::new(&[failed, cancelled], &[], 60.0);
        let shapes = scene(&layout, &View::fit(&layout), &plot(), None, None);
        assert!(shapes.iter().any(|s| matches!(s, Shape::Rect { paint: Paint::Failed, .. })));
        assert!(shapes.iter().any(|s| matches!(s, Shape::Frame { paint: Paint::Cancelled, .. })));
    }

    #[test]
    fn hit_finds_the_bar_under_the_pointer_and_nothing_between_lanes_gaps() {
        let layout = Layout::new(&six_on_three(), &[], 2000.0);
        let plot = plot();
        let view = View::fit(&layout);
        let bar = &layout.bars[4];
        let x = view.x((bar.started.unwrap() + bar.end) / 2.0, &plot);
        let y = plot.lane_top(bar.lane) + plot.lane_height / 2.0;
        assert_eq!(hit(&layout, &view, &plot, x, y), Some(4));
        assert_eq!(hit(&layout, &view, &plot, x, plot.lane_top(0) + 5.0), None, "the main lane has no bar there");
        assert_eq!(hit(&layout, &view, &plot, 10.0, y), None, "the title column");
        assert_eq!(hit(&layout, &view, &plot, view.x(bar.end + 100.0, &plot), y), None);
    }

    #[test]
    fn the_keyboard_walks_lanes_and_time() {
        let layout = Layout::new(&six_on_three(), &[], 2000.0);
        // Lanes: main, _1 (jobs 0, 3), _0 (1, 4), _2 (2, 5).
        let first = step(&layout, None, Step::Right);
        assert_eq!(first, Some(0));
        assert_eq!(step(&layout, first, Step::Right), Some(3));
        assert_eq!(step(&layout, Some(3), Step::Right), Some(3), "the end of the lane stays");
        assert_eq!(step(&layout, Some(3), Step::Left), Some(0));
        assert_eq!(step(&layout, Some(0), Step::Down), Some(1));
        assert_eq!(step(&layout, Some(4), Step::Up), Some(3));
        assert_eq!(step(&layout, Some(0), Step::Up), Some(0), "the main lane has no bars");
    }

    #[test]
    fn details_say_call_worker_times_and_result() {
        let mut r = record(3, "blocks(3)", Some(Worker::Process(10_002)), (100.0, Some(100.5), Some(200.5)));
        r.executor = Arc::from("ProcessPoolExecutor-1");
        r.result = Some("9".into());
        assert_eq!(details(&r), ["blocks(3)", "ProcessPoolExecutor-1 on PID 10002", "queued 0.5 ms · ran 100.0 ms", "result 9"]);
        let waiting = record(4, "blocks(4)", None, (100.0, None, None));
        assert_eq!(
            details(&waiting)[1..],
            ["ThreadPoolExecutor-0 (no worker took it)".to_owned(), "queued … · ran …".into(), "pending".into()]
        );
    }

    #[test]
    fn long_lane_titles_keep_their_end() {
        let records = vec![record(0, "blocks(0)", thread("ThreadPoolExecutor-12_3"), (0.0, Some(1.0), Some(2.0)))];
        let layout = Layout::new(&records, &[], 3.0);
        let narrow = Plot::new(375.0, 120.0, 2);
        let shapes = scene(&layout, &View::fit(&layout), &narrow, None, None);
        let titles: Vec<&str> = shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, paint: Paint::LaneTitle, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(titles, ["MainThread", "…cutor-12_3"]);
    }

    #[test]
    fn the_axis_reaches_the_end_of_the_run_not_its_last_job() {
        let (records, lines) = run_in_executor();
        // Main sleeps 3 s: the run ends a second after its last job and line.
        let layout = Layout::new(&records, &lines, 4000.0);
        assert_eq!(layout.end, 3000.0);
        let view = View::fit(&layout);
        assert!(view.to >= 3000.0 && view.from == 0.0, "{view:?}");
        let plot = plot();
        let last = view.ticks(&plot, 90.0).last().cloned().expect("ticks");
        assert_eq!(last.1, "3000 ms");
        // Zoomed out as far as it goes, the view is the run: no time before it began.
        let out = view.zoom(600.0, 1e-6, &plot, &view).pan(1e6, &plot, &view);
        assert_eq!(out, view);
        assert!(out.ticks(&plot, 90.0).iter().all(|(_, label)| !label.starts_with('-')));
    }

    #[test]
    fn axis_labels_stay_on_the_canvas() {
        let (records, lines) = run_in_executor();
        let layout = Layout::new(&records, &lines, 4000.0);
        for width in [375.0, 640.0, 1170.0] {
            let plot = Plot::new(width, 200.0, layout.lanes.len());
            // A view whose last tick is at the right edge.
            let view = View { from: 0.0, to: 3000.0 };
            let labels: Vec<(f64, f64, String)> = scene(&layout, &view, &plot, None, None)
                .into_iter()
                .filter_map(|shape| match shape {
                    Shape::Text { x, text, paint: Paint::AxisText, .. } => {
                        Some((x, x + text.chars().count() as f64 * AXIS_CHAR_WIDTH, text))
                    }
                    _ => None,
                })
                .collect();
            for (x, right, text) in &labels {
                assert!(*x >= plot.gutter && *right <= plot.width, "{text} at {x}..{right} of {width}");
            }
            for pair in labels.windows(2) {
                assert!(pair[0].1 < pair[1].0, "{} runs into {} at {width} px", pair[0].2, pair[1].2);
            }
            assert_eq!(labels.last().map(|l| l.2.as_str()), Some("3000 ms"), "the run's end keeps its label");
        }
    }

    #[test]
    fn the_legend_names_each_kind_and_every_way_a_job_can_look() {
        let mut records = six_on_three();
        records.push(record(6, "cpu_task(5)", thread("ThreadPoolExecutor-0_0"), (1000.0, Some(1300.0), Some(1400.0))));
        records[0].outcome = Some(Outcome::Panicked);
        records[1].outcome = Some(Outcome::WorkerDied);
        records[2].outcome = Some(Outcome::TimedOut);
        let mut cancelled = record(7, "blocks(7)", None, (1000.0, None, Some(1100.0)));
        cancelled.state = JobState::Cancelled;
        cancelled.outcome = Some(Outcome::Cancelled);
        records.push(cancelled);
        let lines = [line(1000.0, "MainThread", MAIN_PID), line(1001.0, "ThreadPoolExecutor-0_1", MAIN_PID)];
        let layout = Layout::new(&records, &lines, 1400.0);
        let key = legend(&layout);
        let entries: Vec<(&str, Paint, Swatch, usize)> = key.iter().map(|e| (e.label.as_str(), e.paint, e.swatch, e.count)).collect();
        assert_eq!(
            entries,
            [
                ("blocks", Paint::Kind(0), Swatch::Bar, 7),
                ("cpu_task", Paint::Kind(1), Swatch::Bar, 1),
                ("failed", Paint::Failed, Swatch::Bar, 2),
                ("timed out", Paint::TimedOut, Swatch::Bar, 1),
                ("cancelled", Paint::Cancelled, Swatch::Outline, 1),
                // Jobs 3-5 waited 100 ms, cpu_task 300 ms, the cancelled one 100 ms.
                ("queued", Paint::Queue, Swatch::Strip, 5),
                ("log line", Paint::Mark, Swatch::Tick, 2),
            ]
        );
        let quiet = legend(&Layout::new(&six_on_three(), &[], 1201.0));
        assert_eq!(quiet.iter().map(|e| e.count).collect::<Vec<_>>(), [6, 0, 0, 0, 3, 0], "absent ways stay, with none");
    }

    #[test]
    fn the_pointer_on_a_tick_finds_its_lines_and_on_a_bar_its_job() {
        let (records, lines) = run_in_executor();
        let layout = Layout::new(&records, &lines, 4000.0);
        let plot = plot();
        let view = View::fit(&layout);
        let top = |lane: usize| plot.lane_top(lane);
        // At the start, main's two lines share a pixel: both, in order.
        let start = view.x(0.0, &plot);
        assert_eq!(target(&layout, &view, &plot, start + 1.0, top(0) + 20.0), Some(Target::Lines(vec![0, 2])));
        // The worker's lane: its tick at the top of the bar, the bar below it.
        let done = view.x(2000.5, &plot);
        assert_eq!(target(&layout, &view, &plot, done, top(1) + 3.0), Some(Target::Lines(vec![3])));
        assert_eq!(target(&layout, &view, &plot, done, top(1) + 20.0), Some(Target::Job(0)));
        assert_eq!(target(&layout, &view, &plot, view.x(1000.0, &plot), top(1) + 3.0), Some(Target::Job(0)), "no tick there");
        assert_eq!(target(&layout, &view, &plot, view.x(1000.0, &plot), top(0) + 3.0), None, "nothing on main then");
        assert_eq!(target(&layout, &view, &plot, 10.0, top(0) + 3.0), None, "the title column");
        assert_eq!(line_text(&layout, &lines[3]), ["2000.5 ms".to_owned(), "asyncio_0".into(), "main: Task done".into()]);
    }

    #[test]
    fn the_list_holds_the_lines_in_view_in_order() {
        let (records, lines) = run_in_executor();
        let layout = Layout::new(&records, &lines, 4000.0);
        assert_eq!(lines_in_view(&layout, &View::fit(&layout), 100), (vec![0, 1, 2, 3], 4));
        assert_eq!(lines_in_view(&layout, &View::fit(&layout), 2), (vec![0, 1], 4));
        assert_eq!(lines_in_view(&layout, &View { from: 0.2, to: 100.0 }, 100), (vec![1, 2], 2));
    }

    #[test]
    fn a_bar_box_follows_zoom_and_pan_and_is_gone_out_of_view() {
        let layout = Layout::new(&six_on_three(), &[], 1201.0);
        let plot = plot();
        let whole = View::fit(&layout);
        let [x, y, w, h] = bar_box(&layout, &whole, &plot, 4).expect("in view");
        assert!(x > plot.gutter && w > 100.0 && y == plot.lane_top(2) && h == plot.lane_height, "{x} {y} {w} {h}");
        let zoomed = whole.zoom(x + w / 2.0, 4.0, &plot, &whole);
        let [zx, _, zw, _] = bar_box(&layout, &zoomed, &plot, 4).expect("still in view");
        assert!(zw > w * 2.0 && zx <= x + w / 2.0, "{zx} {zw}");
        let elsewhere = zoomed.pan(1e6, &plot, &whole);
        assert_eq!(bar_box(&layout, &elsewhere, &plot, 4), None, "panned away to the start");
        assert_eq!(bar_box(&layout, &whole, &plot, 99), None);
    }
}
