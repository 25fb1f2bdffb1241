// Region switcher: remember the visitor's manual choice in the override
// cookie the host's geo routing reads (nf_country), so "/" sends them back to
// the region they picked instead of the one their IP address suggests.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-country]") : null;
  if (!link) return;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `nf_country=${encodeURIComponent(link.dataset.country)}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
});
