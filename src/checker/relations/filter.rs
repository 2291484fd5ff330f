//! Filters on a view's records: conditions on declared fields, all of which must hold, each
//! one "one of" a list of scalars (`status = ["CONFIRMED", "CANCELLED"]`); a plain scalar in
//! the workload is a list of one. `matches` filters both sides of its join, `covers` what an
//! acknowledged write's record must look like in the end.

use super::view::{field, loose_eq, text};
use crate::history::Value;

/// Field ∈ values conditions, all of which must hold (loose equality, no expressions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter(pub Vec<(String, Vec<Value>)>);

impl Filter {
    /// Whether the filter has no condition (every record passes).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `record`'s every filtered field equals one of that field's values.
    pub fn passes(&self, record: &Value) -> bool {
        self.0.iter().all(|(f, values)| {
            let here = field(record, f);
            values.iter().any(|v| loose_eq(here, v))
        })
    }

    /// The filter for people: `status in [CONFIRMED, CANCELLED] and paid = true`.
    pub fn describe(&self) -> String {
        let condition = |(f, values): &(String, Vec<Value>)| match values.as_slice() {
            [one] => format!("{f} = {}", text(one)),
            many => {
                let values: Vec<_> = many.iter().map(|v| text(v).into_owned()).collect();
                format!("{f} in [{}]", values.join(", "))
            }
        };
        let conditions: Vec<String> = self.0.iter().map(condition).collect();
        conditions.join(" and ")
    }

    /// The filtered fields of `record` for people: `status = PENDING, paid = nil`.
    pub fn fields_of(&self, record: &Value) -> String {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|(f, _)| format!("{f} = {}", text(field(record, f))))
            .collect();
        fields.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::test_support::parse_value;

    fn one_of() -> Filter {
        Filter(vec![(
            "status".into(),
            vec![Value::from("CONFIRMED"), Value::from("CANCELLED")],
        )])
    }

    #[test]
    fn a_record_passes_a_list_when_its_field_equals_any_listed_value() {
        let f = one_of();
        assert!(f.passes(&parse_value("{id 1 status CONFIRMED}")));
        assert!(f.passes(&parse_value("{id 2 status CANCELLED}")));
        assert!(!f.passes(&parse_value("{id 3 status PENDING}")));
        assert!(!f.passes(&parse_value("{id 4}")));
    }

    #[test]
    fn every_condition_must_hold_and_numbers_equal_their_decimal_text() {
        let mut f = one_of();
        f.0.push(("qty".into(), vec![Value::Int(1), Value::Int(2)]));
        assert!(f.passes(&parse_value("{id 1 status CONFIRMED qty \"2\"}")));
        assert!(!f.passes(&parse_value("{id 1 status CONFIRMED qty 3}")));
        assert!(Filter::default().passes(&parse_value("{id 1}")));
    }

    #[test]
    fn a_filter_and_a_records_fields_read_as_text() {
        let mut f = one_of();
        f.0.push(("paid".into(), vec![Value::Bool(true)]));
        assert_eq!(
            f.describe(),
            "status in [CONFIRMED, CANCELLED] and paid = true"
        );
        assert_eq!(
            f.fields_of(&parse_value("{id 1 status PENDING}")),
            "status = PENDING, paid = nil"
        );
    }
}
