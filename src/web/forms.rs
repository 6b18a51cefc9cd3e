//! Accessible form fields: a label for each input, the error next to its field and linked to it,
//! and an error summary at the top of the form that links to each field.

use maud::{html, Markup};

use crate::domain::validation::FieldErrors;

/// Options shared by the field builders.
pub struct Field<'a> {
    pub name: &'static str,
    pub label: &'a str,
    pub value: &'a str,
    pub errors: &'a FieldErrors,
    pub hint: Option<&'a str>,
    pub required: bool,
    /// Prefix for the element ids, for a page with several forms that share field names.
    pub form: &'a str,
}

impl<'a> Field<'a> {
    pub fn new(name: &'static str, label: &'a str, value: &'a str, errors: &'a FieldErrors) -> Self {
        Field { name, label, value, errors, hint: None, required: false, form: "" }
    }

    /// Gives the field's elements ids of their own (`{form}-{name}`) where another form on the page has a field
    /// of the same name; pair with `error_summary_for(form, ..)`.
    pub fn in_form(mut self, form: &'a str) -> Self {
        self.form = form;
        self
    }

    fn id(&self) -> String {
        field_id(self.form, self.name)
    }

    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn described_by(&self) -> Option<String> {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.id()));
        }
        if self.errors.get(self.name).is_some() {
            ids.push(format!("{}-error", self.id()));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    fn wrap(&self, control: Markup) -> Markup {
        let error = self.errors.get(self.name);
        html! {
            div.field.has-error[error.is_some()] {
                label for=(self.id()) {
                    (self.label)
                    @if self.required { span.required aria-hidden="true" { " *" } }
                }
                @if let Some(h) = self.hint { p.hint id={(self.id()) "-hint"} { (h) } }
                @if let Some(e) = error { p.error-message id={(self.id()) "-error"} { span.visually-hidden { "Fout: " } (e) } }
                (control)
            }
        }
    }

    pub fn input(&self, kind: &str) -> Markup {
        self.wrap(html! {
            input type=(kind) id=(self.id()) name=(self.name) value=(self.value)
                required[self.required] aria-invalid=[self.errors.get(self.name).map(|_| "true")]
                aria-describedby=[self.described_by()];
        })
    }

    pub fn text(&self) -> Markup {
        self.input("text")
    }

    pub fn date(&self) -> Markup {
        self.input("date")
    }

    pub fn textarea(&self) -> Markup {
        self.wrap(html! {
            textarea id=(self.id()) name=(self.name) rows="4"
                aria-invalid=[self.errors.get(self.name).map(|_| "true")]
                aria-describedby=[self.described_by()] { (self.value) }
        })
    }

    /// A select with (value, label) options; the current value is selected.
    pub fn select(&self, options: &[(&str, &str)]) -> Markup {
        self.wrap(html! {
            select id=(self.id()) name=(self.name) required[self.required]
                aria-invalid=[self.errors.get(self.name).map(|_| "true")]
                aria-describedby=[self.described_by()] {
                @for (value, label) in options {
                    option value=(value) selected[*value == self.value] { (label) }
                }
            }
        })
    }
}

impl Field<'_> {
    /// Radio buttons with (value, label) options in a fieldset whose legend is the label; the current value is
    /// checked. The hint and the error sit under the legend, as for the other fields.
    pub fn radios(&self, options: &[(&str, &str)]) -> Markup {
        let error = self.errors.get(self.name);
        html! {
            fieldset.field.has-error[error.is_some()] id=(self.id()) aria-describedby=[self.described_by()] {
                legend {
                    (self.label)
                    @if self.required { span.required aria-hidden="true" { " *" } }
                }
                @if let Some(h) = self.hint { p.hint id={(self.id()) "-hint"} { (h) } }
                @if let Some(e) = error { p.error-message id={(self.id()) "-error"} { span.visually-hidden { "Fout: " } (e) } }
                @for (value, label) in options {
                    div.checkbox {
                        input type="radio" id={(self.id()) "-" (value)} name=(self.name) value=(value) checked[*value == self.value];
                        label for={(self.id()) "-" (value)} { (label) }
                    }
                }
            }
        }
    }
}

pub fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    html! {
        div.field.checkbox {
            input type="checkbox" id=(name) name=(name) value="on" checked[checked];
            label for=(name) { (label) }
        }
    }
}

fn field_id(form: &str, name: &str) -> String {
    if form.is_empty() {
        name.to_string()
    } else {
        format!("{form}-{name}")
    }
}

/// The list of problems at the top of a form, each linking to its field.
pub fn error_summary(errors: &FieldErrors, labels: &[(&str, &str)]) -> Markup {
    error_summary_for("", errors, labels)
}

/// `error_summary` for a form whose fields use `Field::in_form(form)`.
pub fn error_summary_for(form: &str, errors: &FieldErrors, labels: &[(&str, &str)]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 #error-summary-title { "Er is iets niet goed ingevuld" }
                ul {
                    @for (field, message) in errors.iter() {
                        @let label = labels.iter().find(|(f, _)| *f == field).map(|(_, l)| *l).unwrap_or(field);
                        li { a href={"#" (field_id(form, field))} { (label) ": " (message) } }
                    }
                }
            }
        }
    }
}
