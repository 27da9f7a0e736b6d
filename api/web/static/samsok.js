// Samsøk: small progressive enhancements. Every page works fully without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // "Skriv ut" is hidden in the HTML because printing from a button needs script.
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }

  // After a rejected search, put keyboard and screen-reader focus on the explanation.
  const summary = document.querySelector(".error-summary[tabindex]");
  if (summary) summary.focus();

  // Drop empty fields from GET submissions so shared URLs stay short and readable.
  for (const form of document.querySelectorAll("form[method=get]")) {
    form.addEventListener("formdata", (event) => {
      for (const [name, value] of [...event.formData.entries()]) {
        if (value === "") event.formData.delete(name);
      }
    });
  }
});
