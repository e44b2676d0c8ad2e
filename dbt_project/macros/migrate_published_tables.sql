{#- The idempotent migration step `wdh etl --execute` runs before a domain's first publish
    (`dbt run-operation migrate_published_tables --args '{models: [scale_detail]}'`): the
    incremental marts named (all without `models`) exist with their contract's columns, the `id` identity column where the model's meta asks for one
    (`identity_column`), and the indexes of its `indexes` config. Creating them here, not
    in a post-hook, means a publish takes no ACCESS EXCLUSIVE lock and an index is built
    once, not at every run. One transaction under an advisory lock: two runs meeting
    here wait for each other.
    With `references` (candidate models), the same transaction then creates the
    reference tables and writes the candidates into them (macros/backfill/
    write_references.sql): back-filled reference rows exist before the facts that name
    them, and only once the gate has passed. -#}
{% macro migrate_published_tables(models=none, references=none) %}
    {%- set statements = ["select pg_advisory_xact_lock(hashtext('wdh:migrate'))"] %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental'
            and (models is none or node.name in models) %}
        {%- set relation = api.Relation.create(
            database=target.database, schema=node.schema, identifier=node.alias) %}
        {%- set identity = node.config.meta.get('identity_column') %}
        {%- set columns = [] %}
        {%- for column in node.columns.values() %}
            {%- set not_null = column.constraints | selectattr('type', 'equalto', 'not_null') | list %}
            {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type
                ~ (' not null' if not_null else '')) %}
        {%- endfor %}
        {%- set identity_ddl = adapter.quote(identity) ~ ' integer generated always as identity primary key'
            if identity else none %}
        {%- do statements.append('create schema if not exists ' ~ adapter.quote(node.schema)) %}
        {%- do statements.append('create table if not exists ' ~ relation ~ ' ('
            ~ (columns + ([identity_ddl] if identity else [])) | join(', ') ~ ')') %}
        {%- if identity %}
            {#- a table dbt created before: the column once, without taking the table's lock otherwise #}
            {%- do statements.append(add_column_if_missing(relation, identity, identity_ddl)) %}
        {%- endif %}
        {%- for index in node.config.get('indexes') or [] %}
            {%- do statements.append(create_index_if_missing(relation, index.columns)) %}
        {%- endfor %}
    {%- endfor %}
    {%- if references %}
        {%- do statements.extend(migrate_reference_tables()) %}
        {%- do statements.extend(write_references(references)) %}
    {%- endif %}
    {%- do run_query(statements | join(';\n')) %}
{% endmacro %}

{#- An index on `columns` unless the table has one on exactly those columns already
    (also one dbt created under its own hashed name). -#}
{% macro create_index_if_missing(relation, columns) -%}
    {%- set quoted = [] %}
    {%- for column in columns %}{% do quoted.append(adapter.quote(column)) %}{% endfor %}
    {%- set name = relation.identifier ~ '__' ~ local_md5(columns | join(',')) [:10] -%}
do $migrate$
begin
    if not exists (
        select 1
        from pg_index
        where indrelid = '{{ relation }}'::regclass
            and indkey::text = (
                select string_agg(attnum::text, ' ' order by position)
                from unnest(array[{% for c in columns %}'{{ c }}'{{ ',' if not loop.last }}{% endfor %}]) with ordinality as wanted (name, position)
                inner join pg_attribute
                    on attrelid = '{{ relation }}'::regclass and attname = wanted.name
            )
    ) then
        create index if not exists {{ adapter.quote(name) }} on {{ relation }} ({{ quoted | join(', ') }});
    end if;
end
$migrate$
{%- endmacro %}

{#- `alter table … add column` when the column is missing: even `add column if not exists`
    takes an ACCESS EXCLUSIVE lock, which would queue every publish behind a long reader. -#}
{% macro add_column_if_missing(relation, column, ddl) -%}
do $migrate$
begin
    if not exists (
        select 1 from pg_attribute
        where attrelid = '{{ relation }}'::regclass and attname = '{{ column }}' and not attisdropped
    ) then
        alter table {{ relation }} add column {{ ddl }};
    end if;
end
$migrate$
{%- endmacro %}
