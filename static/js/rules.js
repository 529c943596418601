// The rule form's builder (templates/automation/rule_edit.html): condition and action rows with
// selects filled from the page's options; an operator list fitting the chosen field; value
// suggestions for fields and actions with known values; rows added and removed.
(function () {
  "use strict";
  const optionsNode = document.getElementById("rule-builder-options");
  if (!optionsNode) return;
  const options = JSON.parse(optionsNode.textContent);
  const form = document.querySelector("[data-testid=rule-form]");

  function fill(select, pairs, current) {
    select.innerHTML = "";
    for (const [value, label] of pairs) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      if (value === current) option.selected = true;
      select.appendChild(option);
    }
  }

  let listCount = 0;
  // The value box: a select when the value is one of known choices, else free text (with the
  // known values suggested for several-value operators). The server checks either.
  function valueControl(row, choices, single) {
    const old = row.querySelector("[data-rule-value]");
    const current = old.value;
    let control;
    if (choices.length && single) {
      control = document.createElement("select");
      fill(control, choices, current);
      if (current && !choices.some(([value]) => value === current)) {
        const option = new Option(current, current, true, true);
        control.add(option, 0);  // a value the server refused stays visible with its error
      }
    } else {
      control = document.createElement("input");
      control.value = current;
      if (choices.length) {
        const list = document.createElement("datalist");
        list.id = "rule-values-" + (++listCount);
        for (const [value, label] of choices) list.appendChild(new Option(label, value));
        row.appendChild(list);
        control.setAttribute("list", list.id);
      }
    }
    control.name = old.name;
    control.setAttribute("data-rule-value", "");
    control.setAttribute("aria-label", old.getAttribute("aria-label") || "");
    old.replaceWith(control);
    return control;
  }

  function setupCondition(row) {
    const field = row.querySelector("[data-rule-field]");
    const op = row.querySelector("[data-rule-op]");
    fill(field, Object.entries(options.fields).map(([name, f]) => [name, f.label]), row.dataset.field);
    const refreshValue = () => {
      const spec = options.fields[field.value];
      const value = valueControl(row, spec.choices, op.value === "eq" || op.value === "ne");
      if (spec.kind === "money") value.placeholder = "100.00";
    };
    const refresh = () => {
      const spec = options.fields[field.value];
      const currentOp = op.value || row.dataset.op;
      fill(op, spec.ops.map((o) => [o, options.ops[o]]), currentOp);
      refreshValue();
    };
    field.addEventListener("change", () => {
      op.value = ""; row.dataset.op = "";
      row.querySelector("[data-rule-value]").value = "";
      refresh();
    });
    op.addEventListener("change", refreshValue);
    refresh();
  }

  function setupAction(row) {
    const type = row.querySelector("[data-rule-action]");
    fill(type, Object.entries(options.actions).map(([name, a]) => [name, a.label]), row.dataset.type);
    const refresh = () => valueControl(row, options.actions[type.value].choices, true);
    type.addEventListener("change", () => {
      row.querySelector("[data-rule-value]").value = "";
      refresh();
    });
    refresh();
  }

  function setup(row, kind) {
    (kind === "condition" ? setupCondition : setupAction)(row);
    row.querySelector("[data-rule-remove]").addEventListener("click", () => row.remove());
  }

  for (const kind of ["condition", "action"]) {
    const box = form.querySelector(`[data-rule-rows=${kind}]`);
    box.querySelectorAll("[data-rule-row]").forEach((row) => setup(row, kind));
    form.querySelector(`[data-rule-add=${kind}]`).addEventListener("click", () => {
      const row = form.querySelector(`[data-rule-template=${kind}]`).content.firstElementChild.cloneNode(true);
      box.appendChild(row);
      setup(row, kind);
      row.querySelector("select").focus();
    });
  }

  const event = form.querySelector("[data-rule-event]");
  const after = form.querySelector("[data-rule-after]");
  event.addEventListener("change", () => { after.hidden = event.value !== "time"; });
})();
