// "Export CSV" inside a filter form: the link takes the form's current values (they may have
// changed through htmx since the page was rendered), minus the page number.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-export-form]");
  if (!link) return;
  var form = link.closest("form");
  if (!form) return;
  var params = new URLSearchParams(new FormData(form));
  params.delete("page");
  link.href = link.href.split("?")[0] + "?" + params.toString();
});
