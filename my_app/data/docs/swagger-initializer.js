// Starts Swagger UI on /docs with the settings the page carries (my_app/docs.py): the page
// itself runs no inline script, so its Content-Security-Policy can forbid them. A classic
// script beside Swagger UI's own bundles, whose globals it uses.
/* global window, document, SwaggerUIBundle, SwaggerUIStandalonePreset */
window.addEventListener("load", function () {
  var config = JSON.parse(document.getElementById("swagger-config").textContent);
  config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
  config.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
  config.layout = "StandaloneLayout";
  window.ui = SwaggerUIBundle(config);
});
