// Behaviour shared by every page, kept out of the HTML so the Content-Security-Policy can forbid inline script.
document.addEventListener("change", (event) => {
  // A <select data-autosubmit> submits its form when changed (language, dashboard regency).
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
