/* My day (web/my_day/my_day.html): after an htmx save the row comes back marked data-saved: focus it (its
   next action is open). */
document.body.addEventListener("htmx:afterSettle", function () {
  var row = document.querySelector(".day-row[data-saved]");
  if (row) { row.removeAttribute("data-saved"); row.focus(); }
});
