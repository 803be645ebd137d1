import BatonCore

extension Components.Schemas.Customer {
    init(_ customer: Customer) {
        self.init(
            id: Int64(customer.id),
            region: customer.region,
            name: customer.name,
            legalName: customer.legalName,
            segment: customer.segment,
            status: .init(rawValue: customer.status.rawValue) ?? .lead,
            ownerId: customer.ownerID.map(Int64.init),
            tags: customer.tags,
            website: customer.website,
            notes: customer.notes,
            campaignId: customer.campaignID.map(Int64.init),
            version: customer.version,
            createdBy: customer.createdBy,
            createdAt: customer.createdAt,
            updatedAt: customer.updatedAt
        )
    }
}

extension Components.Schemas.Contact {
    init(_ contact: Contact) {
        self.init(
            id: Int64(contact.id),
            customerId: Int64(contact.customerID),
            name: contact.name,
            role: contact.role,
            email: contact.email,
            phone: contact.phone,
            preferredChannel: contact.preferredChannel.flatMap { .init(rawValue: $0.rawValue) },
            version: contact.version,
            createdAt: contact.createdAt,
            updatedAt: contact.updatedAt
        )
    }
}

extension Components.Schemas.Interaction {
    init(_ interaction: Interaction) {
        self.init(
            id: Int64(interaction.id),
            customerId: Int64(interaction.customerID),
            contactId: interaction.contactID.map(Int64.init),
            kind: .init(rawValue: interaction.kind.rawValue) ?? .note,
            memberId: interaction.memberID.map(Int64.init),
            occurredAt: interaction.occurredAt,
            summary: interaction.summary,
            followUpOn: interaction.followUpOn,
            followUpTaskId: interaction.followUpTaskID.map(Int64.init),
            createdBy: interaction.createdBy,
            createdAt: interaction.createdAt
        )
    }
}

extension Components.Schemas.TimelineEntry {
    init(_ entry: TimelineEntry) {
        self.init(
            kind: .init(rawValue: entry.kind) ?? .event,
            _type: entry.type,
            at: entry.at,
            id: Int64(entry.id),
            summary: entry.summary,
            link: entry.link
        )
    }
}

extension NewContact {
    init(_ body: Components.Schemas.NewContact) {
        self.init(
            name: body.name,
            role: body.role,
            email: body.email,
            phone: body.phone,
            preferredChannel: body.preferredChannel.flatMap { ContactChannel(rawValue: $0.rawValue) }
        )
    }
}

extension NewCustomer {
    init(_ body: Components.Schemas.NewCustomer) {
        self.init(
            region: body.region,
            name: body.name,
            legalName: body.legalName,
            segment: body.segment,
            status: body.status.flatMap { CustomerStatus(rawValue: $0.rawValue) },
            ownerID: body.ownerId.map(Int.init),
            tags: body.tags,
            website: body.website,
            notes: body.notes,
            campaignID: body.campaignId.map(Int.init),
            contacts: (body.contacts ?? []).map(NewContact.init),
            force: body.force ?? false
        )
    }
}

extension CustomerChanges {
    init(_ body: Components.Schemas.CustomerChanges) {
        self.init(
            name: body.name,
            legalName: body.legalName,
            segment: body.segment,
            status: body.status.flatMap { CustomerStatus(rawValue: $0.rawValue) },
            ownerID: body.ownerId.map(Int.init),
            tags: body.tags,
            website: body.website,
            notes: body.notes
        )
    }
}
