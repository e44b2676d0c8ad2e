{#- §0.7 branch code, with decision D11: a row with a branch name takes its mapped code
    (unmapped → G00); a row without one keeps the sheet's own code (blank → G00). -#}
{% macro branch_code(branch_name, mapped_code, sheet_code) -%}
    case
        when {{ branch_name }} is not null then coalesce({{ mapped_code }}, 'G00')
        else coalesce({{ sheet_code }}, 'G00')
    end
{%- endmacro %}
