//! The timeline on a `<canvas>`: the drawing model of `timeline` replayed with the
//! canvas's 2D calls, and the pointer and keyboard input turned into model calls. The
//! component in www/executor-timeline.js owns the element and the events.

use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::timeline::{self, Layout, Paint, Plot, Shape, Step, Swatch, Target, View};
use web_executors::observe::log::{LogLine, RunLogReader};
use web_executors::observe::record::{JobRecord, RunReader};
use web_executors::platform;

/// A live timeline of one run.
#[wasm_bindgen]
pub struct Timeline {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    /// Colours by paint, from the component's CSS.
    colours: Vec<(Paint, String)>,
    kinds: Vec<String>,
    run: u32,
    /// Reads only what changed in the run since the last frame.
    reader: RunReader,
    records: Vec<JobRecord>,
    /// Reads only the lines logged since the last frame.
    log: RunLogReader,
    /// The run's log, which the layout's marks point into.
    lines: Vec<LogLine>,
    /// When the run ended (epoch ms); None while it goes on.
    ended: Option<f64>,
    layout: Layout,
    view: View,
    /// The view follows the run until the user zooms or pans.
    follow: bool,
    selected: Option<u64>,
    /// The log line (by place in the run) whose tick stands out.
    marked: Option<usize>,
    /// Which records (by place) were given to `takeFinished`, and the first place that
    /// may not have been: jobs end about in order, so a frame looks at few.
    reported: Vec<bool>,
    unreported: usize,
    /// The context's font, kept from frame to frame: setting one costs a font lookup,
    /// and the context keeps it until the canvas is resized.
    font: Option<&'static str>,
    /// CSS pixels and the device's pixels per CSS pixel.
    width: f64,
    height: f64,
    scale: f64,
}

#[wasm_bindgen]
impl Timeline {
    /// A timeline on `canvas`, coloured by `palette`: an object of CSS colours with the
    /// keys `stripe`, `grid`, `axisText`, `laneTitle`, `queue`, `failed`, `timedOut`,
    /// `cancelled`, `barText`, `mark`, `selected`, and `kinds` (an array, one per job kind).
    #[wasm_bindgen(constructor)]
    pub fn new(canvas: JsValue, palette: JsValue) -> Result<Timeline, JsError> {
        let canvas: HtmlCanvasElement = canvas
            .dyn_into()
            .map_err(|other| JsError::new(&format!("Timeline: expected a <canvas> element (got {})", platform::kind_of(&other))))?;
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .ok_or_else(|| JsError::new("Timeline: this canvas has no 2D context"))?
            .unchecked_into();
        let colour =
            |key: &str| js_sys::Reflect::get(&palette, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_else(|| "gray".into());
        let colours = [
            (Paint::LaneStripe, "stripe"),
            (Paint::Grid, "grid"),
            (Paint::AxisText, "axisText"),
            (Paint::LaneTitle, "laneTitle"),
            (Paint::Queue, "queue"),
            (Paint::Failed, "failed"),
            (Paint::TimedOut, "timedOut"),
            (Paint::Cancelled, "cancelled"),
            (Paint::BarText, "barText"),
            (Paint::Mark, "mark"),
            (Paint::Selected, "selected"),
        ]
        .into_iter()
        .map(|(paint, key)| (paint, colour(key)))
        .collect();
        let kinds = js_sys::Reflect::get(&palette, &"kinds".into())
            .ok()
            .filter(|v| v.is_array())
            .map(|v| js_sys::Array::from(&v).iter().filter_map(|c| c.as_string()).collect())
            .filter(|k: &Vec<String>| !k.is_empty())
            .unwrap_or_else(|| vec!["steelblue".into()]);
        let (width, height) = (canvas.client_width() as f64, canvas.client_height() as f64);
        Ok(Timeline {
            canvas,
            context,
            colours,
            kinds,
            run: 0,
            reader: RunReader::default(),
            records: Vec::new(),
            log: RunLogReader::new(0),
            lines: Vec::new(),
            ended: None,
            layout: Layout::default(),
            view: View { from: 0.0, to: 1.0 },
            follow: true,
            selected: None,
            marked: None,
            reported: Vec::new(),
            unreported: 0,
            font: None,
            width,
            height,
            scale: 1.0,
        })
    }

    /// Shows run `run` (from `newRun()`), fitted, nothing selected.
    #[wasm_bindgen(js_name = setRun)]
    pub fn set_run(&mut self, run: u32) {
        self.run = run;
        self.reader = RunReader::new(run);
        self.records.clear();
        self.log = RunLogReader::new(run);
        self.lines.clear();
        self.ended = None;
        self.follow = true;
        self.selected = None;
        self.marked = None;
        self.reported.clear();
        self.unreported = 0;
        self.refresh();
    }

    /// Reads the run's records and log again (while it goes on, once a frame).
    pub fn refresh(&mut self) {
        self.reader.read(&mut self.records);
        let lines_kept = self.lines.len();
        let lines_kept = if self.log.read(&mut self.lines) { lines_kept } else { 0 };
        self.layout.update(&self.records, &self.lines, lines_kept, self.ended.unwrap_or_else(platform::now_ms));
        if self.follow {
            self.view = View::fit(&self.layout);
        }
    }

    /// The run ended at `at` (epoch ms), or now: the axis stops there. Returns the time,
    /// for a timeline made afresh for the same run (a change of colour scheme).
    pub fn finish(&mut self, at: Option<f64>) -> f64 {
        let at = at.unwrap_or_else(platform::now_ms);
        self.ended = Some(at);
        self.refresh();
        at
    }

    /// The canvas's size in CSS pixels and the device pixel ratio.
    pub fn resize(&mut self, width: f64, height: f64, scale: f64) {
        (self.width, self.height, self.scale) = (width, height, scale);
        self.canvas.set_width((width * scale).round() as u32);
        self.canvas.set_height((height * scale).round() as u32);
        self.font = None;
    }

    /// The height (CSS px) that shows every lane at full size.
    #[wasm_bindgen(js_name = wantedHeight)]
    pub fn wanted_height(&self) -> f64 {
        Plot::wanted_height(self.layout.lanes.len())
    }

    fn plot(&self) -> Plot {
        Plot::new(self.width, self.height, self.layout.lanes.len())
    }

    /// Draws the current view.
    pub fn draw(&mut self) {
        let c = &self.context;
        let _ = c.set_transform(self.scale, 0.0, 0.0, self.scale, 0.0, 0.0);
        c.clear_rect(0.0, 0.0, self.width, self.height);
        c.set_text_baseline("middle");
        let mut fill = None;
        for shape in timeline::scene(&self.layout, &self.view, &self.plot(), self.selected, self.marked) {
            let (Shape::Rect { paint, .. } | Shape::Frame { paint, .. } | Shape::Text { paint, .. }) = &shape;
            let paint = *paint;
            // Setting a style parses it: only when it changes.
            if fill != Some(paint) {
                let colour = self.colour(paint);
                c.set_fill_style_str(colour);
                c.set_stroke_style_str(colour);
                c.set_global_alpha(if matches!(paint, Paint::Live(_) | Paint::Queue) { 0.55 } else { 1.0 });
                fill = Some(paint);
            }
            match shape {
                Shape::Rect { x, y, w, h, .. } => c.fill_rect(x, y, w, h),
                Shape::Frame { x, y, w, h, .. } => {
                    c.set_line_width(1.5);
                    c.stroke_rect(x + 0.75, y + 0.75, (w - 1.5).max(0.5), h - 1.5);
                }
                Shape::Text { x, y, text, .. } => {
                    let wanted = if paint == Paint::BarText {
                        "11px ui-monospace, Menlo, Consolas, monospace"
                    } else {
                        "12px system-ui, sans-serif"
                    };
                    if self.font != Some(wanted) {
                        c.set_font(wanted);
                        self.font = Some(wanted);
                    }
                    let _ = c.fill_text(&text, x, y);
                }
            }
        }
    }

    fn colour(&self, paint: Paint) -> &str {
        match paint {
            Paint::Kind(k) | Paint::Live(k) => &self.kinds[k % self.kinds.len()],
            other => self.colours.iter().find(|(paint, _)| *paint == other).map_or("gray", |(_, colour)| colour),
        }
    }

    /// Zooms by `factor` (over 1 zooms in) about `x`; the view stops following the run.
    #[wasm_bindgen(js_name = zoomAt)]
    pub fn zoom_at(&mut self, x: f64, factor: f64) {
        self.follow = false;
        self.view = self.view.zoom(x, factor, &self.plot(), &View::fit(&self.layout));
    }

    /// Pans by `dx` pixels; the view stops following the run.
    #[wasm_bindgen(js_name = panBy)]
    pub fn pan_by(&mut self, dx: f64) {
        self.follow = false;
        self.view = self.view.pan(dx, &self.plot(), &View::fit(&self.layout));
    }

    /// Shows the whole run again, and follows it.
    pub fn fit(&mut self) {
        self.follow = true;
        self.view = View::fit(&self.layout);
    }

    /// Selects job `id` (or nothing), outlined on the next draw.
    pub fn select(&mut self, id: Option<f64>) {
        self.selected = id.map(|id| id as u64);
    }

    /// Marks the tick of log line `number` (as numbered in the list of lines, from 1),
    /// or none, on the next draw.
    #[wasm_bindgen(js_name = markLine)]
    pub fn mark_line(&mut self, number: Option<f64>) {
        self.marked = number.filter(|&n| n >= 1.0).map(|n| n as usize - 1);
    }

    /// Moves the selection by `direction` (`left`, `right`, `up`, `down`); returns the
    /// job now selected.
    pub fn step(&mut self, direction: JsValue) -> Option<f64> {
        let step = match direction.as_string().as_deref().unwrap_or_default() {
            "left" => Step::Left,
            "right" => Step::Right,
            "up" => Step::Up,
            _ => Step::Down,
        };
        self.selected = timeline::step(&self.layout, self.selected, step);
        self.selected.map(|id| id as f64)
    }

    /// The tooltip's lines for job `id`.
    pub fn details(&self, id: f64) -> Vec<String> {
        self.records.iter().find(|r| r.id == id as u64).map(timeline::details).unwrap_or_default()
    }

    /// Where job `id`'s bar is on screen, as [x, y, width, height] in CSS pixels, or
    /// nothing when it is out of view: for placing its tooltip after a key, a zoom or a
    /// pan.
    #[wasm_bindgen(js_name = barBox)]
    pub fn bar_box(&self, id: f64) -> Option<Vec<f64>> {
        timeline::bar_box(&self.layout, &self.view, &self.plot(), id as u64).map(Vec::from)
    }

    /// What is at (`x`, `y`): `{ job: id }`, `{ lines: [[number, time, lane, 'logger: message'], …] }`
    /// (log lines' ticks, oldest first), or null.
    #[wasm_bindgen(js_name = targetAt)]
    pub fn target_at(&self, x: f64, y: f64) -> JsValue {
        let target = js_sys::Object::new();
        let (key, value): (&str, JsValue) = match timeline::target(&self.layout, &self.view, &self.plot(), x, y) {
            None => return JsValue::NULL,
            Some(Target::Job(id)) => ("job", (id as f64).into()),
            Some(Target::Lines(lines)) => ("lines", lines.iter().map(|&at| self.numbered_row(at)).collect::<js_sys::Array>().into()),
        };
        let _ = js_sys::Reflect::set(&target, &key.into(), &value);
        target.into()
    }

    /// The log lines whose ticks are in view, oldest first: `{ rows, total }`, the first
    /// `most` as [number in the run, time, lane, 'logger: message'], and how many are in
    /// view.
    #[wasm_bindgen(js_name = linesInView)]
    pub fn lines_in_view(&self, most: usize) -> JsValue {
        let (shown, total) = timeline::lines_in_view(&self.layout, &self.view, most);
        let rows: js_sys::Array = shown.iter().map(|&at| self.numbered_row(at)).collect();
        let list = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&list, &"rows".into(), &rows);
        let _ = js_sys::Reflect::set(&list, &"total".into(), &(total as f64).into());
        list.into()
    }

    /// Line `at` as [number in the run (from 1), time, lane, 'logger: message'].
    fn numbered_row(&self, at: usize) -> js_sys::Array {
        let row: js_sys::Array = timeline::line_text(&self.layout, &self.lines[at]).iter().map(|text| JsValue::from_str(text)).collect();
        row.unshift(&(at as f64 + 1.0).into());
        row
    }

    /// The legend: `[{ label, colour, swatch, count }]`, swatch being `bar`, `outline`,
    /// `strip` or `tick`, the colour this timeline paints it with.
    pub fn legend(&self) -> js_sys::Array {
        timeline::legend(&self.layout)
            .into_iter()
            .map(|entry| {
                let swatch = match entry.swatch {
                    Swatch::Bar => "bar",
                    Swatch::Outline => "outline",
                    Swatch::Strip => "strip",
                    Swatch::Tick => "tick",
                };
                let item = js_sys::Object::new();
                for (key, value) in [
                    ("label", JsValue::from_str(&entry.label)),
                    ("colour", self.colour(entry.paint).into()),
                    ("swatch", swatch.into()),
                    ("count", (entry.count as f64).into()),
                ] {
                    let _ = js_sys::Reflect::set(&item, &key.into(), &value);
                }
                JsValue::from(item)
            })
            .collect()
    }

    /// The ids of the jobs that settled since the last call (as of the last refresh).
    /// Ids, not records: a long run ends thousands of jobs a second, and a record made
    /// for each, read or not, is garbage a browser collects in long pauses.
    #[wasm_bindgen(js_name = takeFinished)]
    pub fn take_finished(&mut self) -> Vec<f64> {
        self.reported.resize(self.records.len(), false);
        let mut newly = Vec::new();
        for (at, record) in self.records.iter().enumerate().skip(self.unreported) {
            if record.finished.is_some() && !self.reported[at] {
                self.reported[at] = true;
                newly.push(record.id as f64);
            }
        }
        while self.reported.get(self.unreported) == Some(&true) {
            self.unreported += 1;
        }
        newly
    }

    /// Job `id`'s record as of the last refresh, or null.
    pub fn record(&self, id: f64) -> JsValue {
        // Records are in submission order, and ids grow with it.
        match self.records.binary_search_by_key(&(id as u64), |r| r.id) {
            Ok(at) => web_executors::bindings::convert::to_js(&self.records[at]),
            Err(_) => JsValue::NULL,
        }
    }

    /// Bars in the timeline (one per job of the run).
    #[wasm_bindgen(getter, js_name = barCount)]
    pub fn bar_count(&self) -> usize {
        self.layout.bars.len()
    }

    /// The lanes' titles, main thread first.
    #[wasm_bindgen(getter)]
    pub fn lanes(&self) -> Vec<String> {
        self.layout.lanes.iter().map(|l| l.title.clone()).collect()
    }

    /// The time window on screen, [from, to] in ms from the run's start.
    #[wasm_bindgen(getter)]
    pub fn view(&self) -> Vec<f64> {
        vec![self.view.from, self.view.to]
    }

    /// The run's log lines, each a tick.
    #[wasm_bindgen(getter, js_name = lineCount)]
    pub fn line_count(&self) -> usize {
        self.layout.marks.len()
    }

    /// The job kinds in colour order.
    #[wasm_bindgen(getter)]
    pub fn kinds(&self) -> Vec<String> {
        self.layout.kinds.clone()
    }
}
