/* Starts Swagger UI on the API's own OpenAPI document (a file, not an inline script: the pages' CSP allows
 * only the app's own scripts). The document's address comes from the page, so no URL is built here. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true
  });
})();
