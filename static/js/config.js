// Platform configuration: "Reveal" shows a private value in place. Without JavaScript the same
// form posts and the page comes back with that one value in clear.
document.querySelectorAll("form.reveal").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new FormData(form),
      credentials: "same-origin",
    });
    if (!response.ok) {
      form.submit();
      return;
    }
    const { value } = await response.json();
    const code = form.parentElement.querySelector("[data-config-value]");
    code.textContent = value;
    code.classList.remove("masked");
    form.remove();
  });
});
