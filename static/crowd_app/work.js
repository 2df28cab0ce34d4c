// Answer widgets of the crunchers' task page: the rating slider, annotations drawn on the
// attachment (points by click, rectangles by drag) with the per-annotation question.
// A rating has no default: its number field stays empty until the slider is moved or a
// number typed, so an untouched slider never answers (the server refuses an empty rating).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("task-config").textContent);
  const form = document.getElementById("answer-form");
  const errorBox = document.getElementById("form-error");
  const SVG = "http://www.w3.org/2000/svg";

  // Couples a slider (shown only with this script) and the number field that is submitted.
  function coupleRating(slider, number, box) {
    slider.hidden = false;
    slider.addEventListener("input", () => {
      number.value = slider.value;
      box.classList.remove("untouched");
      errorBox.textContent = "";
    });
    number.addEventListener("input", () => {
      if (number.value !== "") { slider.value = number.value; box.classList.remove("untouched"); errorBox.textContent = ""; }
      else box.classList.add("untouched");
    });
  }

  const rating = document.getElementById("answer-rating");
  if (rating) coupleRating(document.getElementById("rating-slider"), rating, rating.closest(".rating"));

  const annotations = [];
  const list = document.getElementById("annotation-list");

  // Built once per mark (its answer survives when other marks are added or removed); its
  // inputs are labelled "<text> (annotation N)", N renumbered by relabel().
  let widgets = 0;
  function perAnnotationWidget(item) {
    const per = config.per_annotation;
    const box = document.createElement("div");
    const labelled = [];
    item.relabel = (number) => labelled.forEach(([field, text]) => field.setAttribute("aria-label", text + " (annotation " + number + ")"));
    if (!config.per_annotation_type) return box;
    const name = "per-" + (++widgets);
    if (config.per_annotation_type === "multiple-choice") {
      const single = per.max_answers === 1;
      per.choices.forEach((choice) => {
        const label = document.createElement("label");
        label.className = "choice";
        const input = document.createElement("input");
        input.type = single ? "radio" : "checkbox";
        input.name = name;
        input.value = choice;
        labelled.push([input, choice]);
        label.append(input, " " + choice);
        box.append(label);
      });
      item.read = () => Array.from(box.querySelectorAll("input:checked")).map((input) => input.value);
    } else if (config.per_annotation_type === "free-text") {
      const input = document.createElement("input");
      input.type = "text";
      labelled.push([input, per.instruction]);
      box.append(input);
      item.read = () => input.value;
    } else {
      box.className = "rating untouched";
      const slider = document.createElement("input");
      slider.type = "range";
      const input = document.createElement("input");
      input.type = "number";
      input.placeholder = "not chosen";
      [slider, input].forEach((field) => { field.min = per.rating_min; field.max = per.rating_max; field.step = per.rating_step; });
      slider.value = per.rating_min;
      labelled.push([slider, per.instruction + " slider"], [input, per.instruction]);
      coupleRating(slider, input, box);
      const scale = document.createElement("span");
      scale.className = "rating-scale";
      scale.append(per.label_min || String(per.rating_min), " ", slider, " ", per.label_max || String(per.rating_max));
      box.append(scale, " ", input);
      item.read = () => (input.value === "" ? undefined : Number(input.value));
    }
    return box;
  }

  function describe(mark) {
    const parts = [];
    if ("x" in mark) parts.push("x " + mark.x + ", y " + mark.y);
    if ("x2" in mark) parts.push("to x " + mark.x2 + ", y " + mark.y2);
    if ("t" in mark) parts.push("t " + mark.t + " s");
    return parts.join(" ");
  }

  function render() {
    list.replaceChildren();
    document.querySelectorAll("svg.overlay").forEach((svg) => svg.replaceChildren());
    annotations.forEach((item, index) => {
      const number = index + 1;
      const li = document.createElement("li");
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = "Annotation " + number + ": " + describe(item.mark);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove annotation " + number);
      remove.addEventListener("click", () => { annotations.splice(index, 1); render(); });
      item.widget = item.widget || perAnnotationWidget(item);
      item.relabel(number);
      li.append(where, " ", remove, item.widget);
      list.append(li);
      const svg = document.querySelector('.annotate[data-index="' + (item.mark.attachment_index || 0) + '"] svg.overlay');
      if (svg && "x" in item.mark) drawMark(svg, item.mark, number);
    });
  }

  function scaleOf(container) {
    const media = container.querySelector("img, video");
    const box = container.getBoundingClientRect();
    if (media && media.tagName === "IMG" && media.naturalWidth) {
      return { sx: media.naturalWidth / box.width, sy: media.naturalHeight / box.height, box };
    }
    if (media && media.tagName === "VIDEO" && media.videoWidth) {
      return { sx: media.videoWidth / box.width, sy: media.videoHeight / box.height, box };
    }
    return { sx: 1, sy: 1, box };
  }

  function drawMark(svg, mark, number) {
    const { sx, sy } = scaleOf(svg.parentElement);
    let shape;
    if ("x2" in mark) {
      shape = document.createElementNS(SVG, "rect");
      shape.setAttribute("x", mark.x / sx); shape.setAttribute("y", mark.y / sy);
      shape.setAttribute("width", (mark.x2 - mark.x) / sx); shape.setAttribute("height", (mark.y2 - mark.y) / sy);
    } else {
      shape = document.createElementNS(SVG, "circle");
      shape.setAttribute("cx", mark.x / sx); shape.setAttribute("cy", mark.y / sy); shape.setAttribute("r", 7);
    }
    shape.setAttribute("class", "mark");
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", mark.x / sx + 8); label.setAttribute("y", mark.y / sy - 6);
    label.setAttribute("class", "mark-label");
    label.textContent = String(number);
    svg.append(shape, label);
  }

  function add(mark) {
    if (config.max_annotations && annotations.length >= config.max_annotations) {
      errorBox.textContent = "At most " + config.max_annotations + " annotations.";
      return;
    }
    if (config.attachment_count > 1 && !("attachment_index" in mark)) mark.attachment_index = 0;
    errorBox.textContent = "";
    annotations.push({ mark, read: () => undefined });
    render();
  }

  document.querySelectorAll(".annotate").forEach((container) => {
    const svg = container.querySelector("svg.overlay");
    const index = Number(container.dataset.index);
    let start = null;
    let preview = null;
    const at = (event) => {
      const { sx, sy, box } = scaleOf(container);
      return {
        x: Math.max(0, Math.round((event.clientX - box.left) * sx)),
        y: Math.max(0, Math.round((event.clientY - box.top) * sy)),
        px: event.clientX - box.left, py: event.clientY - box.top,
      };
    };
    svg.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      start = at(event);
      svg.setPointerCapture(event.pointerId);
      if (config.annotations_type === "rectangle") {
        preview = document.createElementNS(SVG, "rect");
        preview.setAttribute("class", "mark");
        svg.append(preview);
      }
    });
    svg.addEventListener("pointermove", (event) => {
      if (!start || !preview) return;
      const here = at(event);
      preview.setAttribute("x", Math.min(start.px, here.px)); preview.setAttribute("y", Math.min(start.py, here.py));
      preview.setAttribute("width", Math.abs(here.px - start.px)); preview.setAttribute("height", Math.abs(here.py - start.py));
    });
    svg.addEventListener("pointerup", (event) => {
      if (!start) return;
      const end = at(event);
      const begin = start;
      start = null;
      if (preview) { preview.remove(); preview = null; }
      let mark;
      if (config.annotations_type === "rectangle") {
        if (Math.abs(end.px - begin.px) < 4 || Math.abs(end.py - begin.py) < 4) {
          errorBox.textContent = "Drag to draw a rectangle.";
          return;
        }
        mark = { x: Math.min(begin.x, end.x), y: Math.min(begin.y, end.y), x2: Math.max(begin.x, end.x), y2: Math.max(begin.y, end.y) };
      } else {
        mark = { x: end.x, y: end.y };
      }
      const video = container.querySelector("video");
      if (video) mark.t = Math.round(video.currentTime * 100) / 100;
      if (config.attachment_count > 1) mark.attachment_index = index;
      add(mark);
    });
  });

  document.querySelectorAll("button.mark-time").forEach((button) => {
    button.addEventListener("click", () => {
      const media = button.parentElement.querySelector("audio, video");
      const mark = { t: Math.round((media ? media.currentTime : 0) * 100) / 100 };
      if (config.attachment_count > 1) mark.attachment_index = Number(button.dataset.index);
      add(mark);
    });
  });

  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.name === "skip") return;
    if (config.type === "multiple-choice") {
      const checked = form.querySelectorAll('input[name="choice"]:checked').length;
      if (checked === 0) { event.preventDefault(); errorBox.textContent = "Please choose an answer."; }
      return;
    }
    if (rating) {
      if (rating.value === "") {
        event.preventDefault();
        errorBox.textContent = "Please choose a rating: move the slider or type a number.";
      }
      return;
    }
    if (!list) return;
    if (annotations.length < config.min_annotations) {
      event.preventDefault();
      errorBox.textContent = "Mark at least " + config.min_annotations + ".";
      return;
    }
    if (config.per_annotation_type === "rating") {
      const missing = annotations.findIndex((item) => item.read() === undefined);
      if (missing >= 0) {
        event.preventDefault();
        errorBox.textContent = "Annotation " + (missing + 1) + ": please choose a rating.";
        return;
      }
    }
    const answer = annotations.map((item) => {
      const out = Object.assign({}, item.mark);
      if (config.per_annotation_type) out.response = item.read();
      return out;
    });
    document.getElementById("answer-json").value = JSON.stringify(answer);
  });
})();
