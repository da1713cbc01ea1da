// Start Swagger UI from our own origin; the validator badge is off because it would call another site.
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null });
});
