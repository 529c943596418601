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
  function suggest(input, choices) {
    // A datalist of the known values (the value box stays free text, checked by the server).
    if (input.list) input.list.remove();
    input.removeAttribute("list");
    if (!choices.length) return;
    const list = document.createElement("datalist");
    list.id = "rule-values-" + (++listCount);
    for (const [value, label] of choices) {
      const option = document.createElement("option");
      option.value = value;
      option.label = label;
      option.textContent = label;
      list.appendChild(option);
    }
    input.after(list);
    input.setAttribute("list", list.id);
  }

  function setupCondition(row) {
    const field = row.querySelector("[data-rule-field]");
    const op = row.querySelector("[data-rule-op]");
    const value = row.querySelector("[data-rule-value]");
    fill(field, Object.entries(options.fields).map(([name, f]) => [name, f.label]), row.dataset.field);
    const refresh = () => {
      const spec = options.fields[field.value];
      const currentOp = op.value || row.dataset.op;
      fill(op, spec.ops.map((o) => [o, options.ops[o]]), currentOp);
      suggest(value, spec.choices);
      value.placeholder = spec.kind === "money" ? "100.00" : "";
    };
    field.addEventListener("change", () => { op.value = ""; row.dataset.op = ""; refresh(); });
    refresh();
  }

  function setupAction(row) {
    const type = row.querySelector("[data-rule-action]");
    const value = row.querySelector("[data-rule-value]");
    fill(type, Object.entries(options.actions).map(([name, a]) => [name, a.label]), row.dataset.type);
    const refresh = () => suggest(value, options.actions[type.value].choices);
    type.addEventListener("change", () => { value.value = ""; refresh(); });
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
