{#- Generic test: every non-null value lies in [min_value, max_value] (inclusive).
    Returns the failing rows whole, lineage included. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

{{ config(meta={
    'rule': 'have {column} {values}, outside [' ~ min_value ~ ', ' ~ max_value ~ ']',
    'fix': 'correct those values in the workbook',
}) }}

select *
from {{ model }}
where {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
    )

{% endtest %}
